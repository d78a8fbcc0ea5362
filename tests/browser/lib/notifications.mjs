// Browser notifications and tab visibility, as the page sees them: functions
// run inside the page with page.evaluate().

// Records every notification the page raises, and permission requests. The
// context granted the permission; until the page asks, it reads "default",
// as for a first visit (the person then accepts the prompt).
export function spyOnNotifications() {
  globalThis.__notes = [];
  globalThis.__asked = 0;
  const Real = globalThis.Notification;
  class Spy extends Real {
    constructor(title, options) {
      super(title, options);
      globalThis.__notes.push({ title, body: options?.body ?? '' });
    }
    static get permission() {
      return globalThis.__asked ? Real.permission : 'default';
    }
    static requestPermission() {
      globalThis.__asked += 1;
      return Real.requestPermission();
    }
  }
  globalThis.Notification = Spy;
}

// Tells the page its tab is hidden (or shown again), as the browser does.
export function setHidden(hidden) {
  Object.defineProperty(document, 'hidden', { configurable: true, get: () => hidden });
  Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (hidden ? 'hidden' : 'visible') });
  document.dispatchEvent(new Event('visibilitychange'));
}
