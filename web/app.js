// Browser client of the chat server: ES modules, no build step, protocol 2
// over /ws. This wires the parts together and owns the page's phases and
// its rooms' joins; ARCHITECTURE.md lists every module and what it owns.

import { Commands, nobody } from './commands.js';
import { Composer } from './composer.js';
import { Connection } from './connection.js';
import { Feed } from './feed.js';
import { Identity } from './identity.js';
import { JoinPage, checkRoom } from './join.js';
import { Lines } from './lines.js';
import { LocationShare } from './location.js';
import { Messages } from './messages.js';
import { Moderate } from './moderate.js';
import { Notifier } from './notify.js';
import { requestIds } from './outbox.js';
import { People } from './people.js';
import { trim } from './protocol.js';
import { Rooms, Sidebar, dmKey, forgetNumbers, label } from './rooms.js';
import { announce, describe, elements, setStatus, showError } from './ui.js';

// The hello refusals, and the join page field that can fix each.
const HELLO_REFUSED = { invalid_name: 'name', name_claimed: 'name', registration_closed: 'code', bad_link_code: 'code', unsupported_version: null };

const ui = elements();
const session = {
  phase: 'idle', // 'idle' (join page), 'joining' (join page, waiting), 'chat'
  name: '', // the name asked for
  me: { id: '', name: '' }, // the identity the server welcomed
  epoch: null, // identifies the server's message store; seqs compare within one
  limits: {}, // as the server announced them
  fatal: null, // why not to reconnect, e.g. an unsupported version
  out: null, // why this browser is signed out: back to the join page
  joinError: null, // what the server said while joining from the join page
  joinField: null, // and the field that can fix it
  joiningRoom: null,
  freshJoins: false, // the last resume brought a frame too large: rejoin with the latest page
  toldTooLarge: false,
};

const newId = requestIds();
const identity = new Identity(globalThis.localStorage);
const rooms = new Rooms();
const conn = new Connection(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`, newId, {
  welcome: onWelcome,
  frame: onFrame,
  down: onDown,
  tooLarge: onTooLarge,
  stale: onStale,
});
const me = () => session.me;
const joinPage = new JoinPage(ui, startJoining, () => identity.signedInAs);
const messages = new Messages(ui, {
  loadOlder: (name) => feed.loadOlder(rooms.get(name)),
  retry: (id) => lines.retry(id),
  edit: (id) => lines.edit(id),
});
const sidebar = new Sidebar(ui, {
  open: (name) => openRoom(rooms.get(name)),
  leave: (name) => leaveRoom(rooms.get(name)),
  query: openDm,
  menu: (room, user, li) => moderate.open(room, user, li),
});
// The command table both clients share, generated from the protocol crate.
let table = null;
fetch('/commands.json')
  .then((r) => r.json())
  .then((j) => {
    table = j.commands;
  }, () => {});
// A room you were removed from takes no lines until you /join it again.
function typedLine(line) {
  const room = rooms.shown;
  if (!room?.removed) return room && lines.text(room.name, line);
  composer.putBack(line.typed);
  composer.error(`${room.removed} Type /join ${room.name} to come back.`);
}
const composer = new Composer(ui, typedLine, (cmd, typed) => commands.run(cmd, typed), () => table);
const say = (text, kind) => rooms.shown && feed.notice(rooms.shown, text, Date.now(), kind);
const commands = new Commands({
  request: (ev) => conn.request(ev),
  say,
  join: joinTyped,
  leave: leaveTyped,
  query,
  send: (key, line) => lines.text(key, line),
  shown: () => rooms.shown,
  location: (lat, lon) => lines.location(rooms.current, lat, lon),
  locate: () => ui.shareLocation.click(),
  table: () => table,
  list: () => people.list(),
});
const people = new People({
  ui,
  rooms,
  sidebar,
  me,
  renamedMe,
  say,
  notice: (room, text, ts, kind) => feed.notice(room, text, ts, kind),
  request: (ev) => conn.request(ev),
  join: async (name) => showError(ui.roomError, await joinTyped(name)),
});
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
const notifier = new Notifier((name) => rooms.get(name)?.entered && openRoom(rooms.get(name)));
const notify = (title, body, key) => notifier.tell(title, body, key);
const header = (room) => people.header(room);
const moderate = new Moderate({
  rooms,
  sidebar,
  me,
  header,
  request: (ev) => conn.request(ev),
  notice: (room, text, ts, kind) => feed.notice(room, text, ts, kind),
  left: (room, code, why) => lines.do((o) => o.joinFailed(room.name, code, why)),
});
const feed = new Feed({ rooms, messages, sidebar, lines, me, notify, header, announcer: ui.announcer, request: (ev) => conn.request(ev), join: (name) => joinRoom(name) });

// --- connecting, joining, reconnecting

/** way: { name }, { code } or {} (the stored credential). */
function startJoining(way, room) {
  Object.assign(session, { phase: 'joining', name: way.name || '', joiningRoom: room, joinError: null, joinField: null, fatal: null, out: null });
  identity.ask(way);
  conn.open(() => identity.hello());
}

async function onWelcome(ev) {
  identity.welcomed(ev);
  session.me = ev.user;
  session.limits = ev.limits;
  if (session.epoch && ev.epoch !== session.epoch) {
    for (const room of rooms.values()) {
      forgetNumbers(room);
      messages.setMore(room.name, false);
      feed.notice(room, 'The server started a new history; messages above are from before.', Date.now(), 'info');
    }
  }
  session.epoch = ev.epoch;
  // your recent DMs, listed; each is joined when opened
  for (const dm of ev.dms) if (!rooms.get(dm.room)?.entered) feed.listDm(dm.room, dm.peer);
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
      joinPage.failed(describe(ack.error), ack.error?.code === 'invalid_room' ? 'room' : null);
    }
  } else if (session.phase === 'chat') {
    setStatus(ui.status, 'connecting', 'Rejoining rooms…');
    const fresh = session.freshJoins;
    session.freshJoins = false;
    const todo = [...rooms.values()].filter((r) => !r.joined && !r.lazy && !r.removed);
    for (const room of todo) feed.notice(room, 'Reconnected.', Date.now(), 'info');
    await Promise.all(todo.map((r) => rejoin(r, fresh)));
    if (conn.identified) setStatus(ui.status, 'connected', `Connected as ${session.me.name}`);
  }
}

// A frame over the announced size: said once; rooms rejoin with the latest
// page instead of asking for the same answer again.
function onTooLarge(bytes, limit) {
  session.freshJoins = true;
  if (session.toldTooLarge || !rooms.shown) return;
  session.toldTooLarge = true;
  const text = `The server sent ${bytes} bytes at once, more than the ${limit} it announced; rejoining with the latest messages.`;
  feed.notice(rooms.shown, text, Date.now(), 'error');
}

// No answer to a ping: said; the reconnect follows as after any loss.
function onStale() {
  if (rooms.shown) feed.notice(rooms.shown, 'No answer from the server; reconnecting.', Date.now(), 'error');
}

function onDown(e) {
  lines.do((o) => o.disconnected());
  if (e.code === 4004 && !session.out) signedOut({ code: 'credential_revoked' });
  if (session.phase === 'joining') {
    session.phase = 'idle';
    rooms.clear();
    const unreachable = `Cannot reach the chat server at ${location.host}. Check that it is running and your connection works, then try again.`;
    joinPage.failed(session.joinError || unreachable, session.joinField);
    return;
  }
  if (session.phase !== 'chat') return;
  for (const room of rooms.values()) room.joined = false;
  sidebar.updateAll(rooms);
  if (session.out) {
    backToJoin(session.out, rooms.current);
    return;
  }
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
    if (!room.peer) feed.notice(room, `You joined #${name} as ${session.me.name}.`, Date.now(), 'welcome');
    sidebar.updateAll(rooms);
  } else if (!existed) {
    rooms.delete(name);
    messages.remove(name);
  }
  return ack;
}

// A room joined again. Refused for any reason, it stays in the sidebar, its
// pending lines fail with the reason, and a notice says what to do.
async function rejoin(room, fresh = false) {
  // Resume: the server replays what came after the last message we have.
  const join = { type: 'join', room: room.name };
  if (room.lastSeq && session.epoch && !fresh) Object.assign(join, { since: room.lastSeq, epoch: session.epoch });
  const ack = await conn.request(join);
  if (!conn.identified || rooms.get(room.name) !== room) return;
  const code = ack.error && ack.error.code;
  if (ack.ok || code === 'already_in_room') {
    Object.assign(room, { joined: true, removed: '' });
    lines.do((o, now) => o.joined(room.name, now));
  } else {
    lines.do((o) => o.joinFailed(room.name, code, ack.error.message));
    const why = describe(ack.error);
    feed.notice(room, `Could not rejoin ${label(room)}: ${why} Type /join ${room.name} to try again, then Retry your unsent lines.`, Date.now(), 'error');
  }
  sidebar.updateAll(rooms);
}

function onFrame(ev) {
  if (ev.type === 'ack') lines.acked(ev);
  else if (ev.type === 'error') onServerError(ev);
  else if (ev.type === 'link_code' || ev.type === 'devices') commands.frame(ev);
  else if (!people.handle(ev) && !moderate.handle(ev)) feed.handle(ev);
}

// The credential is no good: forgotten; the join page says what to do.
function signedOut(ev) {
  identity.forget();
  session.out = describe(ev);
  session.joinError = session.out;
  session.joinField = 'name';
}

function onServerError(ev) {
  const code = ev.code;
  if (code === 'credential_revoked' || (code === 'bad_credential' && !conn.identified)) {
    signedOut(ev);
    conn.drop();
  } else if (!conn.identified && Object.hasOwn(HELLO_REFUSED, code)) {
    if (code === 'unsupported_version') session.fatal = 'This server speaks a newer protocol. Reload the page to get the matching version.';
    session.joinError = session.fatal || describe(ev, { name: session.name });
    session.joinField = HELLO_REFUSED[code];
    if (session.phase !== 'joining') session.fatal = session.fatal || describe(ev);
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
  header(room);
  composer.setRoom(label(room));
  sidebar.updateAll(rooms);
  sidebar.showUsers(room, session.me);
  composer.error('');
}

function openRoom(room) {
  // a DM listed (welcome, or a message) is joined when first opened
  if (room.lazy && conn.identified) {
    room.lazy = false;
    joinRoom(room.name);
  }
  switchRoom(room);
  sidebar.close();
  composer.focus();
}

function enterChat(name) {
  session.phase = 'chat';
  session.joinError = null;
  joinPage.leave(session.me.name, name);
  switchRoom(rooms.get(name));
  setStatus(ui.status, 'connected', `Connected as ${session.me.name}`);
  composer.focus();
}

async function leaveRoom(room) {
  showError(ui.roomError, '');
  if (room.joined && conn.identified) {
    sidebar.setLeaving(room.name, true);
    const ack = await conn.request({ type: 'leave', room: room.name });
    sidebar.setLeaving(room.name, false);
    if (!ack.ok && !(ack.error && ack.error.code === 'not_in_room')) {
      showError(ui.roomError, `Could not leave ${label(room)}: ${describe(ack.error)}`);
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
    backToJoin(`You left ${label(room)}.`, room.peer ? '' : room.name);
    return;
  }
  if (wasShown) openRoom(next);
  sidebar.updateAll(rooms);
  announce(ui.announcer, `You left ${label(room)}.`);
}

/** /leave [ROOM]: the room shown, or the one named; what went wrong, or ''. */
async function leaveTyped(typed) {
  if (!typed) return leaveRoom(rooms.shown);
  const [name, err] = checkRoom(typed, session.limits.max_room_chars);
  if (err) return err;
  if (!rooms.get(name)?.entered) return `You are not in #${name}.`;
  return leaveRoom(rooms.get(name));
}

// --- conversations (DMs)

/** /query NAME: opens your DM with NAME (the server finds them by name); [key, error]. */
async function query(name) {
  feed.lastDm = null;
  const ack = await conn.request({ type: 'query', name: trim(name) });
  if (!ack.ok) return [null, describe(ack.error?.code === 'not_found' ? nobody(trim(name)) : ack.error)];
  const room = rooms.get(feed.lastDm);
  if (!room) return [null, 'The server did not open the conversation. Try again.'];
  Object.assign(room, { joined: true, entered: true, lazy: false });
  lines.do((o, now) => o.joined(room.name, now));
  openRoom(room);
  return [room.name, ''];
}

/** A person clicked in the user list: your DM with them. */
async function openDm(user) {
  const known = rooms.get(dmKey(session.me.id, user.id));
  if (known?.entered) openRoom(known);
  else {
    const [, err] = await query(user.name);
    if (err) say(err, 'error');
  }
}

/** Your /nick took: the name shown, kept, and in the address. */
function renamedMe(name) {
  session.me = { ...session.me, name };
  identity.renamed(name);
  if (conn.identified) setStatus(ui.status, 'connected', `Connected as ${name}`);
  const q = new URLSearchParams(location.search);
  q.set('username', name);
  history.replaceState(null, '', `?${q}`);
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
  joinPage.back(message, session.me.name || session.name, roomName);
}

/** A room typed ("Join another room", /join): opened, joined first if need be; what went wrong, or ''. */
async function joinTyped(typed) {
  const [name, err] = checkRoom(typed, session.limits.max_room_chars);
  if (err) return err;
  const existing = rooms.get(name);
  if (existing && existing.entered) {
    // a room whose rejoin failed is tried again (it says so if it fails)
    if (!existing.joined && conn.identified) await rejoin(existing);
    openRoom(existing);
    return '';
  }
  const ack = await joinRoom(name);
  if (!ack.ok) return describe(ack.error);
  openRoom(rooms.get(name));
  return '';
}

ui.roomForm.addEventListener('submit', async (e) => {
  e.preventDefault();
  showError(ui.roomError, '');
  ui.roomInput.readOnly = true;
  const err = await joinTyped(ui.roomInput.value);
  ui.roomInput.readOnly = false;
  showError(ui.roomError, err);
  if (err) ui.roomInput.focus();
  else ui.roomInput.value = '';
});

// Back to a hidden tab: the room shown is read.
document.addEventListener('visibilitychange', () => {
  const room = rooms.shown;
  if (document.hidden || !room) return;
  Object.assign(room, { unread: 0, mentioned: false });
  sidebar.updateAll(rooms);
});

joinPage.prefill();
