//! The loop that ties input, network and screen together.
//!
//! Generic over the [`Screen`] it draws on and the input stream, so tests
//! drive it with a `TestBackend` and scripted events. It sleeps until something
//! happens: a terminal event, a network event, the shutdown signal, or the
//! instant the app asked to be woken at ([`App::wake`]). There is no
//! polling. It changes no state itself: everything goes through
//! [`App::update`]; the loop only waits, draws (once per batch), hands the
//! app the renderer's report of what it showed, and carries out the
//! effects.

use std::collections::VecDeque;
use std::future::Future;
use std::io::{self, Write};
use std::time::Duration;

use crossterm::event::Event as TermEvent;
use futures::future::BoxFuture;
use futures::{FutureExt, Stream, StreamExt};
use ratatui::backend::{CrosstermBackend, TestBackend};
use ratatui::layout::{Position, Rect};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::app::outbox::Millis;
use crate::app::{App, Effect, Event, Now};
use crate::keymap;
use crate::net::{NetCommand, NetEvent};
use crate::screen::Screen;
use crate::ui::{self, ScreenLink};

/// Most network events handled before the screen is drawn again.
const NET_BATCH: usize = 512;
/// Most queued terminal events handled before the screen is drawn again.
const INPUT_BATCH: usize = 4096;

/// What a backend can do beyond cells: ring the bell, paint hyperlinks.
pub trait TerminalExtras {
    fn bell(&mut self) -> io::Result<()>;
    /// Re-writes the cells of each link wrapped in OSC 8, then puts the
    /// cursor back.
    fn paint_links(
        &mut self,
        links: &[ScreenLink],
        color: bool,
        cursor: Option<Position>,
    ) -> io::Result<()>;
    /// Where the message pane was drawn, after each draw: the rows that
    /// move when a message arrives (see [`crate::redraw`]).
    fn message_pane(&mut self, _pane: Rect) {}
}

impl TerminalExtras for TestBackend {
    fn bell(&mut self) -> io::Result<()> {
        Ok(())
    }
    fn paint_links(&mut self, _: &[ScreenLink], _: bool, _: Option<Position>) -> io::Result<()> {
        Ok(())
    }
}

impl<W: io::Write> TerminalExtras for CrosstermBackend<W> {
    fn bell(&mut self) -> io::Result<()> {
        self.write_all(b"\x07")?;
        Write::flush(self)
    }

    fn paint_links(
        &mut self,
        links: &[ScreenLink],
        color: bool,
        cursor: Option<Position>,
    ) -> io::Result<()> {
        use crossterm::style::{
            Attribute, Color, Print, ResetColor, SetAttribute, SetForegroundColor,
        };
        use crossterm::{cursor::MoveTo, queue};
        if links.is_empty() {
            return Ok(());
        }
        for link in links {
            // URLs are built by this client from numbers; refuse anything
            // that could end the OSC early all the same.
            if !link.url.chars().all(|c| c.is_ascii_graphic()) {
                continue;
            }
            let fg = if color { Color::Blue } else { Color::Reset };
            queue!(
                self,
                MoveTo(link.x, link.y),
                SetForegroundColor(fg),
                SetAttribute(Attribute::Underlined),
                Print(format!(
                    "\x1b]8;id=loc{}{};{}\x1b\\",
                    link.x, link.y, link.url
                )),
                Print(&link.text),
                Print("\x1b]8;;\x1b\\"),
                SetAttribute(Attribute::Reset),
                ResetColor,
            )?;
        }
        if let Some(p) = cursor {
            queue!(self, MoveTo(p.x, p.y))?;
        }
        Write::flush(self)
    }
}

/// How the loop ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exit {
    Quit,
    /// One line for stderr.
    Fatal(String),
}

pub type LoopError = Box<dyn std::error::Error + Send + Sync>;

/// The two channels to the network actor.
#[derive(Debug)]
pub struct NetLink {
    pub commands: mpsc::Sender<NetCommand>,
    pub events: mpsc::Receiver<NetEvent>,
}

/// Options of the loop that are not app state.
#[derive(Debug, Clone, Copy)]
pub struct LoopOptions {
    pub hyperlinks: bool,
    /// Colour the painted links (off with `NO_COLOR`).
    pub link_color: bool,
}

/// Milliseconds since the epoch, the clock for local notices.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// The loop's clocks: the wall clock, and a monotonic one counted from the
/// loop's start for the app's timers (tokio's, so tests can pause time).
struct Clock {
    origin: Instant,
}

impl Clock {
    fn start() -> Clock {
        Clock {
            origin: Instant::now(),
        }
    }

    fn now(&self) -> Now {
        Now {
            wall_ms: now_ms(),
            mono_ms: Millis::try_from(self.origin.elapsed().as_millis()).unwrap_or(Millis::MAX),
        }
    }

    fn instant(&self, mono_ms: Millis) -> Instant {
        self.origin + Duration::from_millis(mono_ms)
    }
}

/// Sleeps until `deadline`, or forever without one.
async fn until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Runs the app on a terminal that takes every frame at once.
pub async fn run<T, S, F>(
    terminal: &mut T,
    input: S,
    net: NetLink,
    app: &mut App,
    options: LoopOptions,
    shutdown: F,
) -> Result<Exit, LoopError>
where
    T: Screen,
    S: Stream<Item = io::Result<TermEvent>> + Unpin,
    F: Future<Output = ()>,
{
    run_paced(terminal, input, net, app, options, shutdown, &mut Immediate).await
}

/// When a drawn frame can go out. A local terminal takes each one at once
/// ([`Immediate`]); an ssh channel can be slower than the screen changes,
/// and then the loop keeps updating the app but draws only when the
/// channel can take a frame: the frames in between are never made.
pub trait Pacer<B> {
    /// Resolves when the next frame may be drawn. Cancel safe: the loop
    /// drops it when something else happens first, and asks again.
    fn ready(&mut self) -> BoxFuture<'_, Result<(), LoopError>>;
    /// A frame (and the bell, if it rang) was drawn into `backend`: hand
    /// it over.
    fn hand_over(&mut self, backend: &mut B) -> Result<(), LoopError>;
}

/// Every frame goes out as it is drawn.
#[derive(Debug, Clone, Copy, Default)]
pub struct Immediate;

impl<B> Pacer<B> for Immediate {
    fn ready(&mut self) -> BoxFuture<'_, Result<(), LoopError>> {
        Box::pin(std::future::ready(Ok(())))
    }

    fn hand_over(&mut self, _: &mut B) -> Result<(), LoopError> {
        Ok(())
    }
}

/// [`run`], drawing only when `pacer` says a frame can go out.
pub async fn run_paced<T, S, F, P>(
    terminal: &mut T,
    mut input: S,
    mut net: NetLink,
    app: &mut App,
    options: LoopOptions,
    shutdown: F,
    pacer: &mut P,
) -> Result<Exit, LoopError>
where
    T: Screen,
    S: Stream<Item = io::Result<TermEvent>> + Unpin,
    F: Future<Output = ()>,
    P: Pacer<T::Backend>,
{
    let clock = Clock::start();
    let mut shutdown = std::pin::pin!(shutdown);
    let mut net_open = true;
    let size = terminal.size()?;
    app.update(
        Event::Resize {
            width: size.width,
            height: size.height,
        },
        clock.now(),
    );
    // Something new to draw; whether the pacer said a frame can go; the
    // bell waiting for the next frame.
    let (mut dirty, mut ready, mut bell) = (true, false, false);
    loop {
        if dirty && !ready {
            ready = matches!(pacer.ready().now_or_never(), Some(Ok(())));
        }
        if dirty && ready {
            if let Some(exit) = draw_and_report(terminal, &net, app, options, &clock)? {
                return Ok(exit);
            }
            if std::mem::take(&mut bell) {
                terminal.backend_mut().bell()?;
            }
            pacer.hand_over(terminal.backend_mut())?;
            (dirty, ready) = (false, false);
        }
        let wake = app.wake().map(|ms| clock.instant(ms));
        let mut effects = Vec::new();
        tokio::select! {
            r = pacer.ready(), if dirty && !ready => {
                r?;
                ready = true;
                continue;
            }
            ev = input.next() => match ev {
                Some(Ok(ev)) => {
                    if let Some(e) = translate(ev) {
                        effects.extend(app.update(e, clock.now()));
                    }
                    // Take what else is already there (a paste, fast
                    // typing) before drawing once.
                    for _ in 0..INPUT_BATCH {
                        match input.next().now_or_never() {
                            Some(Some(Ok(ev))) => {
                                if let Some(e) = translate(ev) {
                                    effects.extend(app.update(e, clock.now()));
                                }
                            }
                            Some(Some(Err(e))) => return Err(e.into()),
                            Some(None) | None => break,
                        }
                    }
                }
                Some(Err(e)) => return Err(e.into()),
                None => return Ok(quit(&net)),
            },
            ev = net.events.recv(), if net_open => match ev {
                Some(ev) => {
                    effects.extend(app.update(Event::Net(ev), clock.now()));
                    // Handle what else is queued before drawing once.
                    for _ in 0..NET_BATCH {
                        match net.events.try_recv() {
                            Ok(ev) => effects.extend(app.update(Event::Net(ev), clock.now())),
                            Err(_) => break,
                        }
                    }
                }
                None => net_open = false,
            },
            () = until(wake) => effects.extend(app.update(Event::Tick, clock.now())),
            () = &mut shutdown => return Ok(quit(&net)),
        }
        if let Some(exit) = carry_out(terminal, &net, app, &clock, effects, &mut bell)? {
            return Ok(exit);
        }
        dirty = true;
    }
}

/// Carries out the effects of updates in order (and of the updates they
/// lead to); `Some` when one of them ends the loop.
fn carry_out<T: Screen>(
    terminal: &mut T,
    net: &NetLink,
    app: &mut App,
    clock: &Clock,
    effects: Vec<Effect>,
    bell: &mut bool,
) -> Result<Option<Exit>, LoopError> {
    let mut effects = VecDeque::from(effects);
    while let Some(effect) = effects.pop_front() {
        match effect {
            Effect::Send(frame) => {
                if net
                    .commands
                    .try_send(NetCommand::Send(Box::new(frame)))
                    .is_err()
                {
                    effects.extend(app.update(Event::NetBusy, clock.now()));
                }
            }
            Effect::Bell => *bell = true,
            Effect::Redraw => terminal.clear()?,
            Effect::Quit => return Ok(Some(quit(net))),
            Effect::Fatal(line) => {
                let _ = net.commands.try_send(NetCommand::Shutdown);
                return Ok(Some(Exit::Fatal(line)));
            }
        }
    }
    Ok(None)
}

/// Draws, then tells the app what the message pane showed, so it keeps
/// the view where the screen has it and asks for older messages once the
/// oldest is on screen. That changes nothing on screen: one draw is enough.
fn draw_and_report<T: Screen>(
    terminal: &mut T,
    net: &NetLink,
    app: &mut App,
    options: LoopOptions,
    clock: &Clock,
) -> Result<Option<Exit>, LoopError> {
    let mut drawn = ui::Drawn::default();
    terminal.draw(|frame| drawn = ui::draw(frame, app))?;
    terminal.backend_mut().message_pane(drawn.pane);
    if options.hyperlinks {
        terminal
            .backend_mut()
            .paint_links(&drawn.links, options.link_color, drawn.cursor)?;
    }
    let Some(shown) = drawn.shown else {
        return Ok(None);
    };
    let effects = app.update(Event::Shown(shown), clock.now());
    carry_out(terminal, net, app, clock, effects, &mut false)
}

fn quit(net: &NetLink) -> Exit {
    let _ = net.commands.try_send(NetCommand::Shutdown);
    Exit::Quit
}

/// Terminal events the app cares about.
fn translate(ev: TermEvent) -> Option<Event> {
    match ev {
        TermEvent::Key(key) => keymap::map(key).map(Event::Action),
        TermEvent::Paste(text) => Some(Event::Paste(text)),
        TermEvent::Resize(width, height) => Some(Event::Resize { width, height }),
        _ => None,
    }
}
