// Mentions and direct messages while the tab is hidden: a browser
// notification. Permission is asked at the first one, never on load; the
// unread count in the title is the sidebar's (rooms.js).

export class Notifier {
  #asked = false;
  #open;

  /** open(key): a notification was clicked; shows that room or conversation. */
  constructor(open) {
    this.#open = open;
  }

  /** Someone mentioned you or wrote to you: `title` and `body` are text; `key` is the room or DM. */
  tell(title, body, key) {
    const N = globalThis.Notification;
    if (!N) return;
    const show = () => {
      if (N.permission !== 'granted' || !document.hidden) return;
      const n = new N(title, { body, tag: key });
      n.onclick = () => {
        globalThis.focus();
        this.#open(key);
        n.close();
      };
    };
    if (N.permission === 'default' && !this.#asked) {
      this.#asked = true;
      Promise.resolve(N.requestPermission()).then(show, () => {});
    } else show();
  }
}
