// Browser client of the chat server: a plain ES module, no build step. Speaks
// protocol 1 (protocol/README.md) over /ws. All user and server text goes in
// with textContent / text nodes, never as HTML.
const PROTOCOL = 1;
const CLIENT = 'chat-web/0.1.0';
const ACK_TIMEOUT_MS = 15000;
const CONNECT_TIMEOUT_MS = 10000;
const GEO_TIMEOUT_MS = 15000;
// Reconnect delays (the last repeats), each jittered to 50-100%.
const BACKOFF_MS = [500, 1000, 2000, 4000, 8000, 15000];
const REJOIN_RETRY_MS = 5000;
const REJOIN_RETRIES = 12;
const HISTORY_PAGE = 50;
const MAX_TRIES = 5; // sends lost with the connection before a message fails
const MAX_ENTRIES = 2000;
const BOTTOM_SLACK_PX = 48;

// Mirrors protocol::validate::is_invisible_or_control and is_bidi_control.
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u2028-\u202e\u2060-\u206f\u3164\ufeff\uffa0\ufff0-\ufffb\u{1d173}-\u{1d17a}\u{e0000}-\u{e0fff}]/u;
const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;
const ROOM_RE = /^[a-z0-9_-]+$/;

// Every element with an id, as ui.camelCase (join-name -> ui.joinName).
const ui = {};
for (const node of document.querySelectorAll('[id]')) {
  ui[node.id.replace(/-(\w)/g, (_, c) => c.toUpperCase())] = node;
}

const state = {
  ws: null,
  identified: false,
  // 'idle' (join page), 'joining' (join page, waiting), 'chat'
  phase: 'idle',
  name: '', // the name asked for
  me: '', // the name the server accepted
  limits: { max_name_chars: 32, max_room_chars: 32, max_text_chars: 4000, max_rooms: 32 },
  rooms: new Map(), // room name -> room
  current: null,
  nextId: 0,
  epoch: null, // identifies the server's message store; seqs compare within one
  outbox: new Map(), // request id -> own message not yet confirmed (see deliver)
  editing: null, // a failed message whose text went back into the field
  pending: new Map(), // request id -> { resolve, timer }
  retries: 0,
  retryTimer: null,
  fatal: null, // reason not to reconnect, e.g. unsupported version
  joinError: null, // error received while joining from the join page
  locating: false,
  newCount: 0,
};

// --- helpers

function h(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

const chars = (s) => [...s].length;

function formatTime(ts) {
  const d = new Date(ts);
  const hours = d.getHours();
  const minutes = String(d.getMinutes()).padStart(2, '0');
  const time = `${hours % 12 || 12}:${minutes} ${hours < 12 ? 'AM' : 'PM'}`;
  // history can be older than today: then the date comes first
  if (d.toDateString() === new Date().toDateString()) return time;
  return `${d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' })}, ${time}`;
}

function button(className, text, onClick) {
  const b = h('button', className, text);
  b.type = 'button';
  b.addEventListener('click', onClick);
  return b;
}

function timeEl(ts) {
  const t = h('time', 'time', formatTime(ts));
  t.dateTime = new Date(ts).toISOString();
  return t;
}

function checkName(raw) {
  const name = raw.trim();
  const max = state.limits.max_name_chars;
  if (!name) return [null, 'Enter a display name.'];
  if (chars(name) > max) return [null, `A name can have at most ${max} characters (this one has ${chars(name)}).`];
  if (INVISIBLE.test(name)) return [null, 'A name cannot contain control or invisible characters.'];
  return [name, null];
}

function normalizeRoom(typed) {
  let t = typed.trim();
  if (t.startsWith('#')) t = t.slice(1);
  return t.toLowerCase();
}

function checkRoom(raw) {
  const room = normalizeRoom(raw);
  const max = state.limits.max_room_chars;
  if (!room) return [null, 'Enter a room name.'];
  if (chars(room) > max) return [null, `A room name can have at most ${max} characters.`];
  if (!ROOM_RE.test(room)) return [null, 'A room name may only use letters a-z, digits, - and _.'];
  return [room, null];
}

const MESSAGES = {
  rate_limited: 'You are sending too fast. Wait a moment, then try again.',
  too_many_rooms: 'You are in as many rooms as the server allows. Leave one first.',
  shutting_down: 'The server is restarting. Try again in a moment.',
  disconnected: 'Not connected to the server. Reconnecting; try again in a moment.',
  timeout: 'The server did not answer in time. Try again.',
};

// A sentence for a failed request; otherwise the server's own message.
function describe(error, ctx = {}) {
  const code = error && error.code;
  const msg = String((error && error.message) || '').replace(/^./, (c) => c.toUpperCase());
  if (code === 'name_taken') {
    const hint = state.phase === 'chat' ? 'One name is used in every room you are in.' : 'Pick another name.';
    return `The name “${ctx.name || state.me || state.name}” is already taken in #${ctx.room || ''}. ${hint}`;
  }
  return MESSAGES[code] || (msg ? `${msg}.` : 'Something went wrong. Try again.');
}

function setStatus(kind, text) {
  ui.status.dataset.state = kind;
  ui.status.textContent = text;
  document.body.dataset.connection = kind;
}

function announce(text) {
  const p = h('p', '', text);
  ui.announcer.append(p);
  while (ui.announcer.childElementCount > 3) ui.announcer.firstElementChild.remove();
}

function showError(node, text) {
  node.textContent = text || '';
}

// --- connection

function connect() {
  clearTimeout(state.retryTimer);
  state.retryTimer = null;
  state.identified = false;
  const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`);
  state.ws = ws;
  const timer = setTimeout(() => {
    if (state.ws === ws && !state.identified) ws.close();
  }, CONNECT_TIMEOUT_MS);
  ws.onopen = () => {
    ws.send(JSON.stringify({ type: 'hello', protocol: PROTOCOL, name: state.name, client: CLIENT }));
  };
  ws.onmessage = (e) => {
    if (state.ws !== ws || typeof e.data !== 'string') return;
    let ev;
    try {
      ev = JSON.parse(e.data);
    } catch {
      return;
    }
    if (ev && typeof ev === 'object' && typeof ev.type === 'string') handle(ev);
  };
  ws.onclose = (e) => {
    clearTimeout(timer);
    if (state.ws !== ws) return;
    state.ws = null;
    onClosed(e);
  };
}

// Closes the socket without triggering a reconnect.
function disconnect() {
  const ws = state.ws;
  state.ws = null;
  state.identified = false;
  clearTimeout(state.retryTimer);
  state.retryTimer = null;
  failPending();
  if (ws) ws.close(1000);
}

function failPending() {
  for (const [id, p] of state.pending) {
    clearTimeout(p.timer);
    p.resolve({ id, ok: false, error: { code: 'disconnected', message: 'the connection was lost' } });
  }
  state.pending.clear();
}

// Ids must be unique per name across connections (the server spots resends
// by name and id): a random prefix and a counter.
const ID_PREFIX = Array.from(crypto.getRandomValues(new Uint8Array(6)), (b) => b.toString(16).padStart(2, '0')).join('');

const newId = () => `${ID_PREFIX}-${++state.nextId}`;

// Sends a request (under `id` when resending); resolves with its ack.
function request(event, id = newId()) {
  return new Promise((resolve) => {
    const ws = state.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN || !state.identified) {
      resolve({ ok: false, error: { code: 'disconnected', message: 'not connected' } });
      return;
    }
    const timer = setTimeout(() => {
      state.pending.delete(id);
      resolve({ id, ok: false, error: { code: 'timeout', message: 'no answer' } });
    }, ACK_TIMEOUT_MS);
    state.pending.set(id, { resolve, timer });
    ws.send(JSON.stringify({ ...event, id }));
  });
}

function onClosed(e) {
  state.identified = false;
  failPending();
  if (state.phase === 'joining') {
    if (state.joinError) joinFailed(state.joinError, ui.joinName);
    else joinFailed(`Cannot reach the chat server at ${location.host}. Check that it is running and your connection works, then try again.`);
    return;
  }
  if (state.phase !== 'chat') return;
  for (const room of state.rooms.values()) room.joined = false;
  if (e.code === 4000 || state.fatal) {
    setStatus('error', state.fatal || 'This server needs a newer version of the page. Reload it.');
    return;
  }
  scheduleReconnect();
}

function scheduleReconnect() {
  if (state.retryTimer || state.ws) return;
  const base = BACKOFF_MS[Math.min(state.retries, BACKOFF_MS.length - 1)];
  state.retries += 1;
  const delay = Math.round(base / 2 + (Math.random() * base) / 2);
  setStatus('reconnecting', `Connection lost. Reconnecting… (attempt ${state.retries})`);
  state.retryTimer = setTimeout(() => {
    state.retryTimer = null;
    connect();
  }, delay);
}

// Try at once when the network comes back.
window.addEventListener('online', () => {
  if (state.phase === 'chat' && state.retryTimer) connect();
});

const HANDLERS = {
  welcome: (ev) => onWelcome(ev),
  room_state: (ev) => onRoomState(ev),
  user_joined: (ev) => onPresence(ev, true),
  user_left: (ev) => onPresence(ev, false),
  message: (ev) => onRoomMessage(ev),
  location: (ev) => onRoomMessage(ev),
  history: (ev) => onHistory(ev),
  error: (ev) => onServerError(ev),
  ack(ev) {
    const p = state.pending.get(ev.id);
    if (!p) return;
    state.pending.delete(ev.id);
    clearTimeout(p.timer);
    p.resolve(ev);
  },
};

// Newer servers may send types this page does not know: they are ignored.
function handle(ev) {
  if (Object.hasOwn(HANDLERS, ev.type)) HANDLERS[ev.type](ev);
}

function onServerError(ev) {
  const code = ev.code;
  if (!state.identified && (code === 'invalid_name' || code === 'unsupported_version')) {
    if (code === 'unsupported_version') state.fatal = 'This server speaks a newer protocol. Reload the page to get the matching version.';
    if (state.phase === 'joining') {
      state.joinError = code === 'invalid_name' ? describe(ev) : state.fatal;
    } else {
      // The server refused a name it had accepted before; start over.
      state.fatal = state.fatal || describe(ev);
    }
    if (state.ws) state.ws.close();
    return;
  }
  if (code === 'shutting_down') {
    setStatus('reconnecting', 'The server is restarting…');
    return;
  }
  if (state.current) addNotice(state.current, `Server: ${describe(ev)}`, Date.now(), 'error');
}

async function onWelcome(ev) {
  state.identified = true;
  if (ev.limits && typeof ev.limits === 'object') state.limits = { ...state.limits, ...ev.limits };
  state.me = typeof ev.name === 'string' ? ev.name : state.name;
  const epoch = typeof ev.epoch === 'string' ? ev.epoch : null;
  if (state.epoch && epoch !== state.epoch) {
    // A new message store: our sequence numbers mean nothing there.
    for (const room of state.rooms.values()) {
      room.lastSeq = 0;
      room.firstSeq = 0;
      setMore(room, false);
      addNotice(room, 'The server started a new history; messages above are from before.', Date.now(), 'info');
    }
  }
  state.epoch = epoch;
  if (state.phase === 'joining') {
    const room = state.joiningRoom;
    const ack = await joinRequest(room);
    if (state.phase !== 'joining') return;
    if (ack.ok) {
      enterChat(room);
    } else {
      disconnect();
      const code = ack.error && ack.error.code;
      const field = code === 'invalid_room' ? ui.joinRoom : code === 'name_taken' ? ui.joinName : null;
      joinFailed(describe(ack.error, { room, name: state.me }), field);
    }
    return;
  }
  if (state.phase === 'chat') {
    state.retries = 0;
    setStatus('connecting', 'Rejoining rooms…');
    await rejoinAll();
  }
}

async function rejoinAll() {
  const ws = state.ws;
  const rooms = [...state.rooms.values()].filter((r) => !r.joined);
  await Promise.all(rooms.map((room) => rejoin(room, 0)));
  if (state.ws === ws && state.identified) setConnected();
}

async function rejoin(room, attempt) {
  const ws = state.ws;
  // Resume: the server replays what came after the last message we have.
  const join = { type: 'join', room: room.name };
  if (room.lastSeq && state.epoch) Object.assign(join, { since: room.lastSeq, epoch: state.epoch });
  if (attempt === 0) addNotice(room, 'Reconnected.', Date.now(), 'info');
  const ack = await request(join);
  if (state.ws !== ws || !state.rooms.has(room.name)) return;
  if (ack.ok || (ack.error && ack.error.code === 'already_in_room')) {
    room.joined = true;
    // what lost its ack with the old connection, under the same ids
    for (const item of state.outbox.values()) if (item.room === room && item.state === 'pending') deliver(item);
  } else {
    addNotice(room, `Could not rejoin #${room.name}: ${describe(ack.error, { room: room.name })}`, Date.now(), 'error');
    // Our old connection may hold the name until the server notices it.
    if (ack.error && ack.error.code === 'name_taken' && attempt < REJOIN_RETRIES) {
      setTimeout(() => {
        if (state.ws === ws && state.identified && state.rooms.has(room.name) && !room.joined) rejoin(room, attempt + 1);
      }, REJOIN_RETRY_MS);
    }
  }
  updateRoomItem(room);
}

function setConnected() {
  setStatus('connected', `Connected as ${state.me}`);
}

// --- rooms

function makeRoom(name) {
  const room = { name, list: h('ol', 'entries'), item: h('li', 'room-item'), users: [], unread: 0, joined: false };
  Object.assign(room, { firstSeq: 0, lastSeq: 0, loadingOlder: false, atBottom: true, scrollTop: 0 });
  room.open = button('room-link', undefined, () => openRoom(room));
  room.badge = h('span', 'badge');
  room.badge.hidden = true;
  room.open.append(h('span', 'room-name', `#${name}`), room.badge);
  room.leave = button('room-leave', 'Leave', () => leaveRoom(room));
  room.leave.setAttribute('aria-label', `Leave #${name}`);
  room.item.append(room.open, room.leave);
  room.more = h('li', 'more');
  room.moreButton = button('more-button', 'Load older messages', () => loadOlder(room));
  room.moreButton.dataset.testid = 'load-older';
  room.more.append(room.moreButton);
  return room;
}

async function joinRequest(name) {
  let room = state.rooms.get(name);
  const existed = Boolean(room);
  if (!room) {
    room = makeRoom(name);
    state.rooms.set(name, room);
  }
  const ack = await request({ type: 'join', room: name });
  if (ack.ok) {
    room.joined = true;
    if (!room.item.isConnected) ui.rooms.append(room.item);
    updateRoomItem(room);
    addNotice(room, `You joined #${name} as ${state.me}.`, Date.now(), 'welcome');
  } else if (!existed) {
    state.rooms.delete(name);
  }
  return ack;
}

function updateRoomItem(room) {
  const current = room === state.current;
  if (current) room.open.setAttribute('aria-current', 'true');
  else room.open.removeAttribute('aria-current');
  room.item.classList.toggle('offline', !room.joined);
  room.badge.hidden = room.unread === 0;
  room.badge.textContent = room.unread > 99 ? '99+' : String(room.unread);
  const extra = room.unread ? `, ${room.unread} unread` : '';
  room.open.setAttribute('aria-label', `#${room.name}${extra}${room.joined ? '' : ', not connected'}`);
  updateTotals();
}

function updateTotals() {
  let total = 0;
  for (const r of state.rooms.values()) total += r.unread;
  document.title = total ? `(${total}) Chat` : state.current ? `#${state.current.name} – Chat` : 'Chat';
  ui.sidebarToggle.textContent = total ? `Rooms & people (${total} unread)` : 'Rooms & people';
}

function switchRoom(room) {
  const prev = state.current;
  if (prev && prev !== room) {
    prev.atBottom = isAtBottom();
    prev.scrollTop = ui.messages.scrollTop;
  }
  state.current = room;
  room.unread = 0;
  room.item.classList.remove('has-mention');
  ui.messages.replaceChildren(room.list);
  ui.messages.setAttribute('aria-label', `Messages in #${room.name}`);
  ui.roomTitle.textContent = `#${room.name}`;
  ui.messageInput.placeholder = `Message #${room.name}`;
  if (room.atBottom) scrollToBottom();
  else ui.messages.scrollTop = room.scrollTop;
  hideNewMessages();
  for (const r of state.rooms.values()) updateRoomItem(r);
  renderUsers();
  showError(ui.sendError, '');
}

function renderUsers() {
  const room = state.current;
  if (!room) return;
  ui.usersTitle.textContent = `People in #${room.name} (${room.users.length})`;
  const items = room.users.map((name) => {
    const li = h('li', 'user', name);
    li.dataset.user = name;
    if (name === state.me) {
      li.classList.add('me');
      li.append(h('span', 'you', ' (you)'));
    }
    return li;
  });
  ui.users.replaceChildren(...items);
}

function enterChat(roomName) {
  state.phase = 'chat';
  state.joinError = null;
  state.retries = 0;
  ui.joinSubmit.disabled = false;
  ui.joinSubmit.textContent = 'Join';
  ui.joinView.hidden = true;
  ui.chatView.hidden = false;
  const params = new URLSearchParams({ username: state.me, room: roomName });
  history.replaceState(null, '', `?${params}`);
  switchRoom(state.rooms.get(roomName));
  setConnected();
  ui.messageInput.focus();
}

async function leaveRoom(room) {
  showError(ui.roomError, '');
  if (room.joined && state.identified) {
    room.leave.disabled = true;
    const ack = await request({ type: 'leave', room: room.name });
    room.leave.disabled = false;
    if (!ack.ok && !(ack.error && ack.error.code === 'not_in_room')) {
      showError(ui.roomError, `Could not leave #${room.name}: ${describe(ack.error)}`);
      return;
    }
  }
  state.rooms.delete(room.name);
  room.item.remove();
  for (const item of state.outbox.values()) if (item.room === room) state.outbox.delete(item.id);
  if (state.current === room) {
    state.current = null;
    const next = state.rooms.values().next().value;
    if (next) {
      switchRoom(next);
      ui.messageInput.focus();
    } else {
      backToJoin(`You left #${room.name}.`, room.name);
      return;
    }
  }
  updateTotals();
  announce(`You left #${room.name}.`);
}

function backToJoin(message, roomName) {
  disconnect();
  state.phase = 'idle';
  state.rooms.clear();
  state.outbox.clear();
  state.current = null;
  ui.rooms.replaceChildren();
  ui.users.replaceChildren();
  ui.messages.replaceChildren();
  ui.chatView.hidden = true;
  ui.joinView.hidden = false;
  ui.joinName.value = state.me || state.name;
  ui.joinRoom.value = roomName || '';
  ui.joinError.classList.add('info');
  showError(ui.joinError, message);
  setStatus('idle', 'Not connected');
  updateTotals();
  ui.joinRoom.focus();
}

// --- messages

function isAtBottom() {
  const m = ui.messages;
  return m.scrollHeight - m.scrollTop - m.clientHeight <= BOTTOM_SLACK_PX;
}

function scrollToBottom() {
  ui.messages.scrollTop = ui.messages.scrollHeight;
}

function hideNewMessages() {
  state.newCount = 0;
  ui.newMessages.hidden = true;
}

// Appends to a room's list; follows only if the reader was at the bottom.
function addEntry(room, li, { unread = false, own = false } = {}) {
  const current = room === state.current;
  const wasAtBottom = current && isAtBottom();
  room.list.append(li);
  if (room.list.childElementCount > MAX_ENTRIES) trim(room);
  if (current) {
    if (wasAtBottom || own) {
      scrollToBottom();
    } else if (unread) {
      state.newCount += 1;
      ui.newMessages.textContent = `${state.newCount} new message${state.newCount > 1 ? 's' : ''} ↓`;
      ui.newMessages.hidden = false;
    }
  } else if (unread) {
    room.unread += 1;
    updateRoomItem(room);
  }
}

// Drops the oldest entries beyond MAX_ENTRIES; they can be loaded again.
function trim(room) {
  while (room.list.childElementCount > MAX_ENTRIES) {
    (room.more.isConnected ? room.more.nextElementSibling : room.list.firstElementChild).remove();
  }
  const first = room.list.querySelector('[data-seq]');
  if (first) {
    room.firstSeq = Number(first.dataset.seq);
    setMore(room, true);
  }
}

function setMore(room, more) {
  if (more) room.list.prepend(room.more);
  else room.more.remove();
}

async function loadOlder(room) {
  if (room.loadingOlder || !room.firstSeq) return;
  room.loadingOlder = true;
  room.moreButton.disabled = true;
  room.moreButton.textContent = 'Loading…';
  const ack = await request({ type: 'history', room: room.name, before: room.firstSeq, limit: HISTORY_PAGE });
  room.loadingOlder = false;
  room.moreButton.disabled = false;
  room.moreButton.textContent = ack.ok ? 'Load older messages' : `Could not load older messages (${describe(ack.error)}) Try again`;
}

function addNotice(room, text, ts, kind) {
  const li = h('li', `notice notice-${kind}`);
  li.append(h('span', 'notice-text', text), ' ', timeEl(ts));
  addEntry(room, li);
}

function escapeRegExp(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function mentionRegExp() {
  if (!state.me) return null;
  return new RegExp(`(?<![\\p{L}\\p{N}_])@?${escapeRegExp(state.me)}(?![\\p{L}\\p{N}_])`, 'giu');
}

// Text with the reader's name wrapped in <mark>, built from text nodes.
function textWithMentions(text, mentionable) {
  const frag = document.createDocumentFragment();
  const re = mentionable ? mentionRegExp() : null;
  let found = false;
  let last = 0;
  if (re) {
    for (const m of text.matchAll(re)) {
      found = true;
      frag.append(text.slice(last, m.index), h('mark', 'mention', m[0]));
      last = m.index + m[0].length;
    }
  }
  frag.append(text.slice(last));
  return { frag, found };
}

function validTs(ts) {
  return Number.isFinite(ts) ? ts : Date.now();
}

// The list entry for a message or location event, or null if unusable.
function renderMessage(ev) {
  if (!ev || typeof ev.from !== 'string') return null;
  const own = ev.from === state.me;
  const ts = validTs(ev.ts);
  const li = h('li', 'msg');
  if (own) li.classList.add('own');
  const meta = h('div', 'meta');
  meta.append(h('span', 'from', ev.from), ' ', timeEl(ts));
  const body = h('p', 'text');
  body.dir = 'auto';
  let spoken;
  let mentioned = false;
  if (ev.type === 'location') {
    const [lat, lon] = [ev.latitude, ev.longitude].map((v) => Number(v).toFixed(6));
    if (!Number.isFinite(+lat) || !Number.isFinite(+lon)) return null;
    li.classList.add('location');
    const link = (text, href) => Object.assign(h('a', 'map-link', text), { href, target: '_blank', rel: 'noopener noreferrer' });
    const google = link('Google Maps', `https://www.google.com/maps?q=${lat},${lon}`);
    const osm = link('OpenStreetMap', `https://www.openstreetmap.org/?mlat=${lat}&mlon=${lon}#map=16/${lat}/${lon}`);
    body.append('Shared a location: ', google, ' · ', osm, ' ', h('span', 'coords', `(${lat}, ${lon})`));
    li.append(meta, body);
    spoken = `${ev.from} shared a location.`;
  } else {
    const text = String(ev.text ?? '').replace(BIDI, '');
    const { frag, found } = textWithMentions(text, !own);
    mentioned = found;
    if (ev.action) {
      // "* ann waves", on one line with its time
      li.classList.add('action');
      const actor = h('span', 'actor', '* ');
      actor.append(h('span', 'from', ev.from), ' ');
      body.append(actor, frag, ' ', timeEl(ts));
      li.append(body);
      spoken = `${ev.from} ${text}`;
    } else {
      body.append(frag);
      li.append(meta, body);
      spoken = `${ev.from}: ${text}`;
    }
  }
  if (mentioned) li.classList.add('mentioned');
  if (typeof ev.seq === 'number') li.dataset.seq = String(ev.seq);
  return { li, own, mentioned, spoken };
}

// Records a message's seq; false if it was already shown.
function track(room, seq) {
  if (typeof seq !== 'number') return true;
  if (seq <= room.lastSeq) return false;
  room.lastSeq = seq;
  if (!room.firstSeq) room.firstSeq = seq;
  return true;
}

function onRoomMessage(ev) {
  const room = state.rooms.get(ev.room);
  if (!room) return;
  const gap = typeof ev.seq === 'number' && room.lastSeq && ev.seq > room.lastSeq + 1;
  if (echo(room, ev)) return;
  const r = renderMessage(ev);
  if (!r || !track(room, ev.seq)) return;
  if (gap) addNotice(room, 'Some messages were missed here.', validTs(ev.ts), 'info');
  const { li, own, mentioned, spoken } = r;
  addEntry(room, li, { unread: !own, own });
  if (own) return;
  if (room === state.current) announce(spoken);
  else if (mentioned) announce(`${ev.from} mentioned you in #${room.name}.`);
  if (mentioned && room !== state.current) room.item.classList.add('has-mention');
}

// Stored messages: the latest page on join or what a resume missed (appended),
// or older ones from "Load older" (prepended).
function onHistory(ev) {
  const room = state.rooms.get(ev.room);
  if (!room || !Array.isArray(ev.events)) return;
  const events = ev.events.filter((e) => e && typeof e.seq === 'number');
  if (room.loadingOlder) {
    const current = room === state.current;
    const height = ui.messages.scrollHeight;
    const frag = document.createDocumentFragment();
    for (const e of events) {
      if (room.firstSeq && e.seq >= room.firstSeq) continue;
      const r = renderMessage(e);
      if (!r) continue;
      r.li.classList.add('history');
      frag.append(r.li);
    }
    room.list.insertBefore(frag, room.more.nextSibling);
    if (events.length) room.firstSeq = Math.min(room.firstSeq || Infinity, events[0].seq);
    setMore(room, Boolean(ev.more));
    // keep what the reader was looking at in place
    if (current) ui.messages.scrollTop += ui.messages.scrollHeight - height;
    return;
  }
  const resumed = room.lastSeq > 0;
  const missed = Number(ev.missed) || 0;
  if (missed > 0) addNotice(room, `${missed} ${missed === 1 ? 'message' : 'messages'} not shown.`, Date.now(), 'info');
  for (const e of events) {
    const r = !echo(room, e) && renderMessage(e);
    if (!r || !track(room, e.seq)) continue;
    // stored before we came: styled as history (what a resume missed is new)
    if (!resumed) r.li.classList.add('history');
    addEntry(room, r.li, { unread: resumed && !r.own, own: r.own });
  }
  if (!resumed) setMore(room, Boolean(ev.more));
}

function onRoomState(ev) {
  const room = state.rooms.get(ev.room);
  if (!room || !Array.isArray(ev.users)) return;
  room.users = ev.users.filter((u) => typeof u === 'string');
  if (room === state.current) renderUsers();
}

function onPresence(ev, joined) {
  const room = state.rooms.get(ev.room);
  if (!room || typeof ev.name !== 'string') return;
  const key = ev.name.toLowerCase();
  room.users = room.users.filter((u) => u.toLowerCase() !== key);
  if (joined) room.users.push(ev.name);
  if (room === state.current) renderUsers();
  const text = joined ? `${ev.name} joined` : `${ev.name} left`;
  addNotice(room, text, validTs(ev.ts), joined ? 'join' : 'leave');
  if (room === state.current) announce(`${text}.`);
}

// --- join UI

function joinFailed(message, field) {
  state.phase = 'idle';
  state.rooms.clear();
  ui.joinSubmit.disabled = false;
  ui.joinSubmit.textContent = 'Join';
  ui.joinError.classList.remove('info');
  showError(ui.joinError, message);
  setStatus('idle', 'Not connected');
  (field || ui.joinSubmit).focus();
}

ui.joinForm.addEventListener('submit', (e) => {
  e.preventDefault();
  if (state.phase !== 'idle') return;
  const [name, nameErr] = checkName(ui.joinName.value);
  const [room, roomErr] = checkRoom(ui.joinRoom.value);
  ui.joinName.setAttribute('aria-invalid', String(Boolean(nameErr)));
  ui.joinRoom.setAttribute('aria-invalid', String(Boolean(roomErr)));
  ui.joinError.classList.remove('info');
  if (nameErr || roomErr) {
    showError(ui.joinError, nameErr || roomErr);
    (nameErr ? ui.joinName : ui.joinRoom).focus();
    return;
  }
  ui.joinRoom.value = room;
  showError(ui.joinError, '');
  state.phase = 'joining';
  state.name = name;
  state.joiningRoom = room;
  state.joinError = null;
  state.fatal = null;
  ui.joinSubmit.disabled = true;
  ui.joinSubmit.textContent = 'Joining…';
  setStatus('connecting', 'Connecting…');
  connect();
});

function prefill() {
  const q = new URLSearchParams(location.search);
  ui.joinName.value = q.get('username') || '';
  ui.joinRoom.value = q.get('room') || '';
  if (!ui.joinName.value) ui.joinName.focus();
  else if (!ui.joinRoom.value) ui.joinRoom.focus();
  else ui.joinSubmit.focus();
}

// --- sidebar

function openRoom(room) {
  switchRoom(room);
  closeSidebar();
  ui.messageInput.focus();
}

function closeSidebar() {
  ui.sidebar.classList.remove('open');
  ui.sidebarToggle.setAttribute('aria-expanded', 'false');
}

ui.sidebarToggle.addEventListener('click', () => {
  const open = ui.sidebar.classList.toggle('open');
  ui.sidebarToggle.setAttribute('aria-expanded', String(open));
});

ui.roomForm.addEventListener('submit', async (e) => {
  e.preventDefault();
  const [room, err] = checkRoom(ui.roomInput.value);
  if (err) {
    showError(ui.roomError, err);
    ui.roomInput.focus();
    return;
  }
  showError(ui.roomError, '');
  const existing = state.rooms.get(room);
  if (existing) {
    ui.roomInput.value = '';
    openRoom(existing);
    return;
  }
  ui.roomInput.readOnly = true;
  const ack = await joinRequest(room);
  ui.roomInput.readOnly = false;
  if (!ack.ok) {
    showError(ui.roomError, describe(ack.error, { room, name: state.me }));
    ui.roomInput.focus();
    return;
  }
  ui.roomInput.value = '';
  if (state.rooms.has(room)) openRoom(state.rooms.get(room));
});

ui.messages.addEventListener('scroll', () => {
  if (!ui.newMessages.hidden && isAtBottom()) hideNewMessages();
});

ui.newMessages.addEventListener('click', () => {
  scrollToBottom();
  hideNewMessages();
  ui.messageInput.focus();
});

// --- composer

function fitInput() {
  const lines = ui.messageInput.value.split('\n').length;
  ui.messageInput.rows = Math.min(6, Math.max(1, lines));
}

function sendMessage() {
  const room = state.current;
  if (!room) return;
  const raw = ui.messageInput.value;
  let text = raw;
  let action = false;
  const me = /^\/me\s+/.exec(text);
  if (me) {
    action = true;
    text = text.slice(me[0].length);
  }
  if (!text.trim()) {
    showError(ui.sendError, 'Type a message first.');
    return;
  }
  // The field held a failed message's text: this send replaces it.
  if (state.editing && state.editing.state === 'failed') drop(state.editing);
  state.editing = null;
  ui.messageInput.value = '';
  fitInput();
  showError(ui.sendError, '');
  ui.messageInput.removeAttribute('aria-invalid');
  ui.messageInput.focus();
  const event = { type: 'send', room: room.name, text };
  if (action) event.action = true;
  // Shown at once, pending until acknowledged; the id stays the same for
  // every resend, so the server stores it once.
  const id = newId();
  const { li } = renderMessage({ ...event, id, from: state.me, ts: Date.now() });
  const item = { id, room, event, li, raw, note: h('small', 'state'), tries: 0 };
  li.append(item.note);
  state.outbox.set(id, item);
  addEntry(room, li, { own: true });
  deliver(item);
}

function mark(item, kind, reason) {
  item.state = kind;
  item.li.classList.remove('pending', 'sent', 'failed');
  item.li.classList.add(kind);
  item.note.replaceChildren(kind === 'sent' ? 'Sent' : kind === 'pending' ? 'Sending…' : `Not sent: ${reason}`);
  if (kind !== 'failed') return;
  const retry = button('retry', 'Retry', () => {
    if (state.editing === item) state.editing = null;
    item.tries = 0;
    deliver(item);
  });
  const edit = button('edit', 'Edit', () => {
    drop(item);
    putBack(item);
    ui.messageInput.focus();
  });
  item.note.append(' ', retry, ' ', edit);
  announce(`Message not sent: ${reason}`);
}

function putBack(item) {
  ui.messageInput.value = item.raw;
  fitInput();
}

function drop(item) {
  state.outbox.delete(item.id);
  item.li.remove();
}

// Sends an own message (again); it stays pending while the connection is
// down and is resent when its room is rejoined.
async function deliver(item) {
  mark(item, 'pending');
  if (!item.room.joined || !state.identified || item.busy) return;
  item.busy = true;
  const ack = await request(item.event, item.id);
  item.busy = false;
  if (state.outbox.get(item.id) !== item) return;
  const code = ack.error && ack.error.code;
  if (ack.ok) {
    mark(item, 'sent');
    if (typeof ack.seq === 'number') item.li.dataset.seq = String(ack.seq);
    if (item.echoed) state.outbox.delete(item.id);
  } else if (code === 'disconnected') {
    if (++item.tries >= MAX_TRIES) mark(item, 'failed', `Not confirmed after ${MAX_TRIES} tries.`);
  } else {
    const reason = describe(ack.error);
    mark(item, 'failed', reason);
    // A message the server will never take goes back into an empty field.
    if ((code === 'text_too_long' || code === 'empty_text') && !ui.messageInput.value && item.room === state.current) {
      state.editing = item;
      putBack(item);
      ui.messageInput.setAttribute('aria-invalid', 'true');
    }
    if (item.room === state.current) showError(ui.sendError, reason);
  }
}

// The server's copy of a message this page sent (live, or replayed on
// resume): it is already in the list.
function echo(room, ev) {
  const item = ev.from === state.me && state.outbox.get(ev.id);
  if (!item || item.room !== room) return false;
  track(room, ev.seq);
  item.echoed = true;
  if (typeof ev.seq === 'number') item.li.dataset.seq = String(ev.seq);
  if (item.state === 'sent') state.outbox.delete(item.id);
  return true;
}

ui.composer.addEventListener('submit', (e) => {
  e.preventDefault();
  sendMessage();
});

ui.messageInput.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey && !e.altKey && !e.ctrlKey && !e.metaKey && !e.isComposing) {
    e.preventDefault();
    sendMessage();
  }
});

ui.messageInput.addEventListener('input', () => {
  fitInput();
  if (ui.sendError.textContent === 'Type a message first.') showError(ui.sendError, '');
});

// --- location

function setLocating(label) {
  state.locating = Boolean(label);
  ui.shareLocation.disabled = Boolean(label);
  ui.shareLocation.textContent = label || 'Share location';
}

function openCoords(reason) {
  ui.coordsReason.textContent = reason;
  showError(ui.coordsError, '');
  ui.coordsForm.hidden = false;
  ui.coordsLat.focus();
}

function closeCoords() {
  ui.coordsForm.hidden = true;
  ui.coordsReason.textContent = '';
  showError(ui.coordsError, '');
}

async function sendLocation(latitude, longitude, errorNode) {
  const room = state.current;
  if (!room) return false;
  setLocating('Sharing…');
  const ack = await request({ type: 'location', room: room.name, latitude, longitude });
  setLocating(null);
  if (!ack.ok) {
    showError(errorNode, describe(ack.error));
    return false;
  }
  showError(errorNode, '');
  return true;
}

function geoReason(err) {
  if (err && err.code === 1) {
    return window.isSecureContext
      ? 'Location access was denied, so your position was not shared. Allow it in the browser to try again, or type coordinates:'
      : 'The browser shares locations only with secure (https) pages. Type coordinates instead:';
  }
  if (err && err.code === 3) return 'Finding your position took too long. Try again, or type coordinates:';
  return 'Your position is not available right now. Try again, or type coordinates:';
}

ui.shareLocation.addEventListener('click', () => {
  if (state.locating || !state.current) return;
  showError(ui.sendError, '');
  if (!('geolocation' in navigator)) {
    openCoords('This browser cannot share its location. Type coordinates instead:');
    return;
  }
  setLocating('Locating…');
  navigator.geolocation.getCurrentPosition(
    async (pos) => {
      setLocating(null);
      if (await sendLocation(pos.coords.latitude, pos.coords.longitude, ui.sendError)) closeCoords();
    },
    (err) => {
      setLocating(null);
      openCoords(geoReason(err));
    },
    { enableHighAccuracy: false, timeout: GEO_TIMEOUT_MS, maximumAge: 60000 },
  );
});

function parseCoord(raw, min, max) {
  const t = raw.trim().replace(/^\+/, '');
  if (!/^-?\d+(\.\d+)?$/.test(t)) return null;
  const v = Number(t);
  return Number.isFinite(v) && v >= min && v <= max ? v : null;
}

ui.coordsForm.addEventListener('submit', async (e) => {
  e.preventDefault();
  const lat = parseCoord(ui.coordsLat.value, -90, 90);
  const lon = parseCoord(ui.coordsLon.value, -180, 180);
  if (lat === null) {
    showError(ui.coordsError, 'Latitude must be a number from -90 to 90, like 51.5007.');
    ui.coordsLat.focus();
    return;
  }
  if (lon === null) {
    showError(ui.coordsError, 'Longitude must be a number from -180 to 180, like -0.1246.');
    ui.coordsLon.focus();
    return;
  }
  if (await sendLocation(lat, lon, ui.coordsError)) {
    ui.coordsLat.value = '';
    ui.coordsLon.value = '';
    closeCoords();
    ui.messageInput.focus();
  }
});

function cancelCoords() {
  closeCoords();
  ui.shareLocation.focus();
}
ui.coordsCancel.addEventListener('click', cancelCoords);
ui.coordsForm.addEventListener('keydown', (e) => {
  if (e.key === 'Escape') cancelCoords();
});

prefill();
