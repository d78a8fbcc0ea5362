// The message list: one <ol> per room, its entries (messages, locations,
// notices, your lines with their state), "Load older messages", and
// scrolling (following only while the reader is at the bottom). Views keep
// the DOM nodes, by room name and line id; models never hold one.

import { describe } from './moderation.js';
import * as protocol from './protocol.js';
import { button, h, timeEl } from './ui.js';

const MAX_ENTRIES = 2000; // older ones are dropped from the page; "Load older" brings them back
const BOTTOM_SLACK_PX = 48;
const GROUP_MS = 5 * 60_000; // lines of one person closer than this share one header

const talk = (li) => li?.classList.contains('msg') && !li.classList.contains('action');

/** Marks an entry `cont` when it follows a line of the same person (by id and name) shortly before. */
function group(li) {
  const prev = li?.previousElementSibling;
  if (!talk(li)) return;
  const same = talk(prev) && prev.dataset.who === li.dataset.who && li.dataset.ts - prev.dataset.ts < GROUP_MS;
  li.classList.toggle('cont', Boolean(same));
}

const validTs = (ts) => (Number.isFinite(ts) ? ts : Date.now());

/** `text` with the reader's name marked, built from text nodes; and whether it was. */
function withMentions(text, me) {
  const frag = document.createDocumentFragment();
  const found = me ? protocol.mentionRanges(text, me) : [];
  let last = 0;
  for (const [start, end] of found) {
    frag.append(text.slice(last, start), h('mark', 'mention', text.slice(start, end)));
    last = end;
  }
  frag.append(text.slice(last));
  return { frag, mentioned: found.length > 0 };
}

/**
 * The entry for a message or location event: { li, own, mentioned, spoken },
 * or null if the event cannot be shown. `me` is the reader: { id, name };
 * their own lines are known by the user id, never by the name.
 */
export function renderMessage(ev, me) {
  if (ev?.type === 'moderation') return renderModeration(ev);
  if (!ev || typeof ev.from !== 'string') return null;
  const own = Boolean(me.id) && ev.user === me.id;
  const ts = validTs(ev.ts);
  if (ev.type === 'topic') {
    const text = protocol.stripBidi(ev.text);
    const spoken = text ? `${ev.from} set the topic: ${text}` : `${ev.from} cleared the topic`;
    const li = h('li', 'notice notice-topic');
    li.append(h('span', 'notice-text', spoken), ' ', timeEl(ts));
    li.dataset.seq = String(ev.seq);
    return { li, own: false, mentioned: false, spoken };
  }
  const li = h('li', 'msg');
  if (own) li.classList.add('own');
  li.dataset.who = `${ev.user}|${ev.from}`;
  li.dataset.ts = String(ts);
  const meta = h('div', 'meta');
  meta.append(h('span', 'from', ev.from), ' ', timeEl(ts));
  const body = h('p', 'text');
  body.dir = 'auto';
  let spoken;
  let mentioned = false;
  if (ev.type === 'location') {
    const { latitude: lat, longitude: lon } = ev;
    if (!protocol.location(lat, lon).ok) return null;
    li.classList.add('location');
    const link = (text, href) => Object.assign(h('a', 'map-link', text), { href, target: '_blank', rel: 'noopener noreferrer' });
    const coords = `(${protocol.formatCoord(lat)}, ${protocol.formatCoord(lon)})`;
    body.append('Shared a location: ', link('Google Maps', protocol.googleMapsUrl(lat, lon)), ' · ');
    body.append(link('OpenStreetMap', protocol.openstreetmapUrl(lat, lon)), ' ', h('span', 'coords', coords));
    li.append(meta, body);
    spoken = `${ev.from} shared a location.`;
  } else {
    const text = protocol.stripBidi(String(ev.text ?? ''));
    const marked = withMentions(text, own ? '' : me.name);
    mentioned = marked.mentioned;
    if (ev.action) {
      // "* ann waves", on one line with its time
      li.classList.add('action');
      const actor = h('span', 'actor', '* ');
      actor.append(h('span', 'from', ev.from), ' ');
      body.append(actor, marked.frag, ' ', timeEl(ts));
      li.append(body);
      spoken = `${ev.from} ${text}`;
    } else {
      body.append(marked.frag);
      li.append(meta, body);
      spoken = `${ev.from}: ${text}`;
    }
  }
  if (mentioned) li.classList.add('mentioned');
  if (typeof ev.seq === 'number') li.dataset.seq = String(ev.seq);
  return { li, own, mentioned, spoken };
}

// A moderation event as its shared sentence ("bob was kicked by ann: spam").
function renderModeration(ev) {
  const spoken = describe(ev);
  if (!spoken) return null;
  const li = h('li', 'notice notice-moderation');
  li.append(h('span', 'notice-text', spoken), ' ', timeEl(validTs(ev.ts)));
  li.dataset.seq = String(ev.seq);
  return { li, own: false, mentioned: false, spoken };
}

export class Messages {
  #ui;
  #on;
  #lists = new Map(); // room name -> { list, more, moreButton }
  #own = new Map(); // line id -> { li, note }
  #shown = null; // room name
  #newCount = 0;

  /** on.loadOlder(room), on.retry(id), on.edit(id): the person clicked those buttons. */
  constructor(ui, on) {
    this.#ui = ui;
    this.#on = on;
    ui.messages.addEventListener('scroll', () => {
      if (!ui.newMessages.hidden && this.atBottom()) this.#hideNew();
    });
    ui.newMessages.addEventListener('click', () => {
      this.scrollToBottom();
      this.#hideNew();
      ui.messageInput.focus();
    });
  }

  #room(name) {
    let r = this.#lists.get(name);
    if (!r) {
      const more = h('li', 'more');
      const moreButton = button('more-button', 'Load older messages', () => this.#on.loadOlder(name));
      moreButton.dataset.testid = 'load-older';
      more.append(moreButton);
      r = { list: h('ol', 'entries'), more, moreButton };
      this.#lists.set(name, r);
    }
    return r;
  }

  atBottom() {
    const m = this.#ui.messages;
    return m.scrollHeight - m.scrollTop - m.clientHeight <= BOTTOM_SLACK_PX;
  }

  scrollToBottom() {
    this.#ui.messages.scrollTop = this.#ui.messages.scrollHeight;
  }

  #hideNew() {
    this.#newCount = 0;
    this.#ui.newMessages.hidden = true;
  }

  /** Where the reader is in the shown room, to come back to it: { atBottom, scrollTop }. */
  position() {
    return { atBottom: this.atBottom(), scrollTop: this.#ui.messages.scrollTop };
  }

  /** Shows a room's list, where the reader left it (the model's atBottom / scrollTop). */
  show(room) {
    this.#shown = room.name;
    const m = this.#ui.messages;
    m.replaceChildren(this.#room(room.name).list);
    m.setAttribute('aria-label', `Messages in #${room.name}`);
    if (room.atBottom) this.scrollToBottom();
    else m.scrollTop = room.scrollTop;
    this.#hideNew();
  }

  /** Appends an entry, followed if the reader was at the bottom (or it is theirs); the oldest seq left if old ones went, else null. */
  append(name, li, { unread = false, own = false } = {}) {
    const { list, more } = this.#room(name);
    const shown = name === this.#shown;
    const wasAtBottom = shown && this.atBottom();
    list.append(li);
    group(li);
    if (shown) {
      if (wasAtBottom || own) {
        this.scrollToBottom();
      } else if (unread) {
        this.#newCount += 1;
        this.#ui.newMessages.textContent = `${this.#newCount} new message${this.#newCount > 1 ? 's' : ''} ↓`;
        this.#ui.newMessages.hidden = false;
      }
    }
    if (list.childElementCount <= MAX_ENTRIES) return null;
    while (list.childElementCount > MAX_ENTRIES) (more.parentNode === list ? more.nextElementSibling : list.firstElementChild).remove();
    const first = list.querySelector('[data-seq]');
    if (!first) return null;
    this.setMore(name, true);
    return Number(first.dataset.seq);
  }

  notice(name, text, ts, kind) {
    const li = h('li', `notice notice-${kind}`);
    li.append(h('span', 'notice-text', text), ' ', timeEl(validTs(ts)));
    return this.append(name, li);
  }

  /** Older messages ("Load older"), above what is shown, keeping the reader's place. */
  prepend(name, entries) {
    const { list, more } = this.#room(name);
    const shown = name === this.#shown;
    const height = this.#ui.messages.scrollHeight;
    const frag = document.createDocumentFragment();
    for (const li of entries) {
      li.classList.add('history');
      frag.append(li);
    }
    const next = more.parentNode === list ? more.nextSibling : list.firstChild;
    list.insertBefore(frag, next);
    for (const li of [...entries, next]) group(li);
    if (shown) this.#ui.messages.scrollTop += this.#ui.messages.scrollHeight - height;
  }

  setMore(name, more) {
    const r = this.#room(name);
    if (more) r.list.prepend(r.more);
    else r.more.remove();
  }

  /** The "Load older" button while loading (null when done, or why it failed). */
  loading(name, busy, failure = null) {
    const { moreButton } = this.#room(name);
    moreButton.disabled = busy;
    if (busy) moreButton.textContent = 'Loading…';
    else moreButton.textContent = failure ? `Could not load older messages (${failure}) Try again` : 'Load older messages';
  }

  /** Shows a line you typed at once; its state follows the outbox (mark). */
  addOwn(line, ev, me) {
    const entry = renderMessage({ ...ev, from: me.name, user: me.id, ts: Date.now() }, me);
    if (!entry) return false;
    const note = h('small', 'state');
    entry.li.append(note);
    this.#own.set(line.id, { li: entry.li, note });
    this.append(line.room, entry.li, { own: true });
    return true;
  }

  /** Shows a line's state: pending, sent, or failed with `reason` and Retry / Edit. */
  mark(line, reason) {
    const own = this.#own.get(line.id);
    if (!own) return;
    const { li, note } = own;
    li.classList.remove('pending', 'sent', 'failed');
    li.classList.add(line.status);
    if (typeof line.seq === 'number') li.dataset.seq = String(line.seq);
    if (line.status === 'pending') note.replaceChildren('Sending…');
    else if (line.status === 'sent') note.replaceChildren('Sent');
    else {
      const retry = button('retry', 'Retry', () => this.#on.retry(line.id));
      const edit = button('edit', 'Edit', () => this.#on.edit(line.id));
      note.replaceChildren(`Not sent: ${reason}`, ' ', retry, ' ', edit);
    }
  }

  setSeq(id, seq) {
    const own = this.#own.get(id);
    if (own && typeof seq === 'number') own.li.dataset.seq = String(seq);
  }

  /** The entry of a line is final: it stays, but needs no more updates. */
  settle(id) {
    this.#own.delete(id);
  }

  /** Removes a line's entry (Edit, or replaced by a new send). */
  dropOwn(id) {
    const li = this.#own.get(id)?.li;
    const next = li?.nextElementSibling;
    li?.remove();
    group(next);
    this.#own.delete(id);
  }

  remove(name) {
    for (const [id, { li }] of this.#own) if (this.#room(name).list.contains(li)) this.#own.delete(id);
    this.#lists.delete(name);
    if (this.#shown === name) this.#shown = null;
  }

  clear() {
    this.#lists.clear();
    this.#own.clear();
    this.#shown = null;
    this.#ui.messages.replaceChildren();
  }
}
