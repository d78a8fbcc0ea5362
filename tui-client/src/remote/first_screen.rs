//! The first screen for a key the server does not know yet: a name to
//! claim, or a link code from another device of the person's.

use crossterm::event::{Event as TermEvent, KeyCode, KeyEventKind, KeyModifiers};
use futures::StreamExt;
use futures::future::BoxFuture;
use ratatui::layout::{Constraint, Layout, Position};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use tokio::sync::mpsc;

use std::io::Write;

use super::channel::{self, Keys};
use super::{Answer, Incoming, Output, RemoteError, RemoteSignIn, TerminalInfo};
use crate::redraw::{LeanTerminal, Redraw, ShadowBackend, SharedBuffer, SharedSize};
use crate::theme::{ColorMode, Theme};

/// Longest answer typed (names and codes are far shorter).
const MAX_ANSWER: usize = 64;

const PROMPT: &str = "name or link code: ";

/// A link code as `/link` shows it, `XXXX-XXXX` (any case); anything else
/// is a name.
pub fn answer(line: &str) -> Answer {
    let line = line.trim();
    let code = line.len() == 9
        && line.as_bytes()[4] == b'-'
        && line
            .char_indices()
            .all(|(i, c)| i == 4 || c.is_ascii_alphanumeric());
    if code {
        Answer::LinkCode(line.to_ascii_uppercase())
    } else {
        Answer::Name(line.to_string())
    }
}

/// What the screen shows.
struct Screen<'a> {
    message: &'a str,
    line: &'a str,
    error: Option<&'a str>,
    checking: bool,
    theme: Theme,
}

fn draw(frame: &mut ratatui::Frame<'_>, s: &Screen<'_>) {
    let area = frame.area();
    let [text, prompt] = Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(area);
    let mut lines = vec![
        Line::from(crate::sanitize::one_line(s.message)),
        Line::from(""),
        Line::from(
            "Type a name to claim it for this key, or a link code (XXXX-XXXX) from /link \
             on a device where you are signed in. Ctrl-C leaves.",
        ),
    ];
    if let Some(error) = s.error {
        lines.push(Line::from(""));
        lines.push(Line::from(Span::styled(
            crate::sanitize::one_line(error),
            s.theme.error(),
        )));
    }
    if s.checking {
        lines.push(Line::from(""));
        lines.push(Line::from(Span::styled("checking…", s.theme.system())));
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), text);
    let shown = crate::app::truncate(
        s.line,
        usize::from(prompt.width).saturating_sub(PROMPT.len() + 1),
    );
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(PROMPT, s.theme.prompt()),
            Span::raw(shown.clone()),
        ])),
        prompt,
    );
    let x = PROMPT.len() + unicode_width::UnicodeWidthStr::width(shown.as_str());
    frame.set_cursor_position(Position::new(
        prompt.x
            + u16::try_from(x)
                .unwrap_or(u16::MAX)
                .min(prompt.width.saturating_sub(1)),
        prompt.y,
    ));
}

/// Draws a frame and hands it over once the channel can take it.
async fn show<O: Output>(
    terminal: &mut LeanTerminal<SharedBuffer>,
    frames: &SharedBuffer,
    output: &mut O,
    screen: &Screen<'_>,
) -> Result<bool, RemoteError> {
    terminal
        .draw(|frame| draw(frame, screen))
        .map_err(|e| RemoteError::Draw(e.to_string()))?;
    Ok(send(frames, output).await)
}

/// Sends what was written; false when the channel is gone.
async fn send<O: Output>(frames: &SharedBuffer, output: &mut O) -> bool {
    if output.ready().await.is_err() {
        return false;
    }
    output.send(frames.take()).is_ok()
}

pub async fn first_screen<O, C>(
    info: TerminalInfo,
    message: String,
    input: &mut mpsc::Receiver<Incoming>,
    output: &mut O,
    mut claim: C,
) -> Result<Option<RemoteSignIn>, RemoteError>
where
    O: Output,
    C: FnMut(Answer) -> BoxFuture<'static, Result<RemoteSignIn, String>> + Send,
{
    let size = SharedSize::new(channel::bounded(info.cols, info.rows));
    let mut frames = SharedBuffer::default();
    frames
        .write_all(channel::ENTER)
        .map_err(|e| RemoteError::Draw(e.to_string()))?;
    let backend = ShadowBackend::remote(frames.clone(), Redraw::Full, size.clone());
    let mut terminal = LeanTerminal::new(backend);
    let theme = Theme::new(ColorMode::detect(None, Some(&info.term), None));
    let mut keys = Keys::new(input, size);
    let mut line = String::new();
    let mut error: Option<String> = None;
    let signed_in = loop {
        let screen = Screen {
            message: &message,
            line: &line,
            error: error.as_deref(),
            checking: false,
            theme,
        };
        if !show(&mut terminal, &frames, output, &screen).await? {
            return Ok(None);
        }
        let Some(Ok(event)) = keys.next().await else {
            // The input ended: the terminal is given back all the same.
            break None;
        };
        let key = match event {
            TermEvent::Key(key) if key.kind != KeyEventKind::Release => key,
            TermEvent::Paste(text) => {
                let first = text.lines().next().unwrap_or("");
                line.extend(first.chars().filter(|c| !c.is_control()));
                line = line.chars().take(MAX_ANSWER).collect();
                continue;
            }
            _ => continue,
        };
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Char('c') if ctrl => break None,
            KeyCode::Char('d') if ctrl && line.is_empty() => break None,
            KeyCode::Char('u') if ctrl => line.clear(),
            KeyCode::Char(c) if !ctrl && line.chars().count() < MAX_ANSWER => line.push(c),
            KeyCode::Backspace => {
                line.pop();
            }
            KeyCode::Enter if !line.trim().is_empty() => {
                let checking = Screen {
                    message: &message,
                    line: &line,
                    error: None,
                    checking: true,
                    theme,
                };
                if !show(&mut terminal, &frames, output, &checking).await? {
                    return Ok(None);
                }
                match claim(answer(&line)).await {
                    Ok(sign_in) => break Some(sign_in),
                    Err(refusal) => {
                        error = Some(refusal);
                        line.clear();
                    }
                }
            }
            _ => {}
        }
    };
    frames
        .write_all(channel::LEAVE)
        .map_err(|e| RemoteError::Draw(e.to_string()))?;
    send(&frames, output).await;
    Ok(signed_in)
}
