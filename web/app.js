// Browser client of the chat server: ES modules, no build step, protocol 1
// (protocol/README.md) over /ws. This module wires the parts together and
// owns the page's phases (join page, joining, chat) and its rooms' joins;
// ARCHITECTURE.md lists every module and what it owns.

import { Composer } from './composer.js';
import { Connection } from './connection.js';
import { Feed } from './feed.js';
import { JoinPage, checkRoom } from './join.js';
import { Lines } from './lines.js';
import { LocationShare } from './location.js';
import { Messages } from './messages.js';
import { requestIds } from './outbox.js';
import { Rooms, Sidebar, forgetNumbers } from './rooms.js';
import { announce, describe, elements, setStatus, showError } from './ui.js';

const REJOIN_RETRY_MS = 5000; // a rejoin refused because our old connection still holds the name is tried again
const REJOIN_RETRIES = 12;

const ui = elements();
const session = {
  phase: 'idle', // 'idle' (join page), 'joining' (join page, waiting), 'chat'
  name: '', // the name asked for
  me: '', // the name the server accepted
  epoch: null, // identifies the server's message store; seqs compare within one
  limits: {}, // as the server announced them
  fatal: null, // why not to reconnect, e.g. an unsupported version
  joinError: null, // what the server said while joining from the join page
  joiningRoom: null,
  freshJoins: false, // the last resume brought a frame too large: rejoin with the latest page
  toldTooLarge: false,
};

const newId = requestIds();
const rooms = new Rooms();
const conn = new Connection(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`, newId, {
  welcome: onWelcome,
  frame: onFrame,
  down: onDown,
  tooLarge: onTooLarge,
});
const me = () => session.me;
const joinPage = new JoinPage(ui, startJoining);
const messages = new Messages(ui, {
  loadOlder: (name) => feed.loadOlder(rooms.get(name)),
  retry: (id) => lines.retry(id),
  edit: (id) => lines.edit(id),
});
const sidebar = new Sidebar(ui, { open: (name) => openRoom(rooms.get(name)), leave: (name) => leaveRoom(rooms.get(name)) });
const composer = new Composer(ui, (line) => rooms.shown && lines.text(rooms.current, line));
const locationShare = new LocationShare(ui, (latitude, longitude) => {
  if (!rooms.shown) return false;
  lines.location(rooms.current, latitude, longitude);
  return true;
});
const lines = new Lines({
  send: (frame) => conn.send(frame),
  newId,
  me,
  currentRoom: () => rooms.current,
  messages,
  composer,
  editLocation: (lat, lon) => locationShare.edit(lat, lon),
  announcer: ui.announcer,
});
const feed = new Feed({ rooms, messages, sidebar, lines, me, announcer: ui.announcer, request: (ev) => conn.request(ev) });

// --- connecting, joining, reconnecting

function startJoining(name, room) {
  Object.assign(session, { phase: 'joining', name, joiningRoom: room, joinError: null, fatal: null });
  conn.open(name);
}

async function onWelcome(ev) {
  session.me = ev.name;
  session.limits = ev.limits;
  if (session.epoch && ev.epoch !== session.epoch) {
    for (const room of rooms.values()) {
      forgetNumbers(room);
      messages.setMore(room.name, false);
      feed.notice(room, 'The server started a new history; messages above are from before.', Date.now(), 'info');
    }
  }
  session.epoch = ev.epoch;
  lines.do((o) => o.connected());
  if (session.phase === 'joining') {
    const room = session.joiningRoom;
    const ack = await joinRoom(room);
    if (session.phase !== 'joining') return;
    if (ack.ok) {
      enterChat(room);
    } else {
      conn.close();
      session.phase = 'idle';
      const field = { invalid_room: 'room', name_taken: 'name' }[ack.error && ack.error.code];
      joinPage.failed(describe(ack.error, { room, name: session.me }), field);
    }
  } else if (session.phase === 'chat') {
    setStatus(ui.status, 'connecting', 'Rejoining rooms…');
    const fresh = session.freshJoins;
    session.freshJoins = false;
    await Promise.all([...rooms.values()].filter((r) => !r.joined).map((r) => rejoin(r, 0, fresh)));
    if (conn.identified) setStatus(ui.status, 'connected', `Connected as ${session.me}`);
  }
}

// The server sent more at once than it announced (an older or broken
// server): said once; the rooms rejoin with the latest page instead of
// asking for the same answer again.
function onTooLarge(bytes, limit) {
  session.freshJoins = true;
  if (session.toldTooLarge || !rooms.shown) return;
  session.toldTooLarge = true;
  const text = `The server sent ${bytes} bytes at once, more than the ${limit} it announced; rejoining with the latest messages.`;
  feed.notice(rooms.shown, text, Date.now(), 'error');
}

function onDown(e) {
  lines.do((o) => o.disconnected());
  if (session.phase === 'joining') {
    session.phase = 'idle';
    rooms.clear();
    const unreachable = `Cannot reach the chat server at ${location.host}. Check that it is running and your connection works, then try again.`;
    joinPage.failed(session.joinError || unreachable, session.joinError ? 'name' : null);
    return;
  }
  if (session.phase !== 'chat') return;
  for (const room of rooms.values()) room.joined = false;
  sidebar.updateAll(rooms);
  if (e.code === 4000 || session.fatal) {
    setStatus(ui.status, 'error', session.fatal || 'This server needs a newer version of the page. Reload it.');
    return;
  }
  const attempt = conn.reconnect();
  setStatus(ui.status, 'reconnecting', `Connection lost. Reconnecting… (attempt ${attempt})`);
}

/** The first join of a room (from the join page or the sidebar). */
async function joinRoom(name) {
  const existed = rooms.has(name);
  const room = rooms.add(name);
  const ack = await conn.request({ type: 'join', room: name });
  if (ack.ok) {
    room.joined = true;
    room.entered = true;
    lines.do((o, now) => o.joined(name, now));
    feed.notice(room, `You joined #${name} as ${session.me}.`, Date.now(), 'welcome');
    sidebar.updateAll(rooms);
  } else if (!existed) {
    rooms.delete(name);
    messages.remove(name);
  }
  return ack;
}

async function rejoin(room, attempt, fresh = false) {
  // Resume: the server replays what came after the last message we have.
  const join = { type: 'join', room: room.name };
  if (room.lastSeq && session.epoch && !fresh) Object.assign(join, { since: room.lastSeq, epoch: session.epoch });
  if (attempt === 0) feed.notice(room, 'Reconnected.', Date.now(), 'info');
  const ack = await conn.request(join);
  if (!conn.identified || rooms.get(room.name) !== room) return;
  const code = ack.error && ack.error.code;
  if (ack.ok || code === 'already_in_room') {
    room.joined = true;
    lines.do((o, now) => o.joined(room.name, now));
  } else {
    lines.do((o) => o.joinFailed(room.name, code, ack.error.message));
    const why = describe(ack.error, { room: room.name, name: session.me, chatting: true });
    feed.notice(room, `Could not rejoin #${room.name}: ${why}`, Date.now(), 'error');
    // Our old connection may hold the name until the server notices it.
    if (code === 'name_taken' && attempt < REJOIN_RETRIES) {
      setTimeout(() => {
        if (conn.identified && rooms.get(room.name) === room && !room.joined) rejoin(room, attempt + 1);
      }, REJOIN_RETRY_MS);
    }
  }
  sidebar.updateAll(rooms);
}

function onFrame(ev) {
  if (ev.type === 'ack') lines.acked(ev);
  else if (ev.type === 'error') onServerError(ev);
  else feed.handle(ev);
}

function onServerError(ev) {
  const code = ev.code;
  if (!conn.identified && (code === 'invalid_name' || code === 'unsupported_version')) {
    if (code === 'unsupported_version') session.fatal = 'This server speaks a newer protocol. Reload the page to get the matching version.';
    // While joining it is said under the form; in the chat, the server
    // refused a name it had taken before: start over.
    if (session.phase === 'joining') session.joinError = code === 'invalid_name' ? describe(ev) : session.fatal;
    else session.fatal = session.fatal || describe(ev);
    conn.drop();
  } else if (code === 'shutting_down') {
    setStatus(ui.status, 'reconnecting', 'The server is restarting…');
  } else if (rooms.shown) {
    feed.notice(rooms.shown, `Server: ${describe(ev)}`, Date.now(), 'error');
  }
}

// --- rooms

function switchRoom(room) {
  const prev = rooms.shown;
  if (prev && prev !== room) Object.assign(prev, messages.position());
  rooms.current = room.name;
  room.unread = 0;
  room.mentioned = false;
  messages.show(room);
  ui.roomTitle.textContent = `#${room.name}`;
  composer.setRoom(room.name);
  sidebar.updateAll(rooms);
  sidebar.showUsers(room, session.me);
  composer.error('');
}

function openRoom(room) {
  switchRoom(room);
  sidebar.close();
  composer.focus();
}

function enterChat(name) {
  session.phase = 'chat';
  session.joinError = null;
  joinPage.leave(session.me, name);
  switchRoom(rooms.get(name));
  setStatus(ui.status, 'connected', `Connected as ${session.me}`);
  composer.focus();
}

async function leaveRoom(room) {
  showError(ui.roomError, '');
  if (room.joined && conn.identified) {
    sidebar.setLeaving(room.name, true);
    const ack = await conn.request({ type: 'leave', room: room.name });
    sidebar.setLeaving(room.name, false);
    if (!ack.ok && !(ack.error && ack.error.code === 'not_in_room')) {
      showError(ui.roomError, `Could not leave #${room.name}: ${describe(ack.error)}`);
      return;
    }
  }
  const wasShown = room.name === rooms.current;
  rooms.delete(room.name);
  lines.do((o) => o.leave(room.name));
  sidebar.remove(room.name);
  messages.remove(room.name);
  const next = [...rooms.values()].find((r) => r.entered);
  if (wasShown && !next) {
    backToJoin(`You left #${room.name}.`, room.name);
    return;
  }
  if (wasShown) openRoom(next);
  sidebar.updateAll(rooms);
  announce(ui.announcer, `You left #${room.name}.`);
}

function backToJoin(message, roomName) {
  conn.close();
  session.phase = 'idle';
  lines.do((o) => {
    for (const room of rooms.values()) o.leave(room.name);
    o.disconnected();
  });
  rooms.clear();
  messages.clear();
  sidebar.clear();
  sidebar.updateAll(rooms);
  joinPage.back(message, session.me || session.name, roomName);
}

ui.roomForm.addEventListener('submit', async (e) => {
  e.preventDefault();
  const [name, err] = checkRoom(ui.roomInput.value, session.limits.max_room_chars);
  if (err) {
    showError(ui.roomError, err);
    ui.roomInput.focus();
    return;
  }
  showError(ui.roomError, '');
  const existing = rooms.get(name);
  if (existing && existing.entered) {
    ui.roomInput.value = '';
    openRoom(existing);
    return;
  }
  ui.roomInput.readOnly = true;
  const ack = await joinRoom(name);
  ui.roomInput.readOnly = false;
  if (!ack.ok) {
    showError(ui.roomError, describe(ack.error, { room: name, name: session.me, chatting: true }));
    ui.roomInput.focus();
    return;
  }
  ui.roomInput.value = '';
  openRoom(rooms.get(name));
});

joinPage.prefill();
