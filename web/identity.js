// Who the page signs in as: the credential the server issued when a name was
// registered or a link code used, kept in localStorage (`chat.credential`)
// and presented in every hello after that; else a code, else a name.

const CREDENTIAL = 'chat.credential';
const NAME = 'chat.name'; // shown on the join page; not a secret

export class Identity {
  #store;
  #asked = {}; // { name } or { code }: the way in the person chose
  #held = ''; // the credential of this visit, should storage fail
  /** { id, name } once the server welcomed us. */
  user = null;

  constructor(store) {
    this.#store = store;
  }

  #get(key) {
    try {
      return this.#store?.getItem(key) || '';
    } catch {
      return ''; // storage disabled
    }
  }

  #set(key, value) {
    try {
      if (value) this.#store?.setItem(key, value);
      else this.#store?.removeItem(key);
    } catch {}
  }

  /** The name this browser is signed in as, or '' without a credential. */
  get signedInAs() {
    return this.#get(CREDENTIAL) ? this.#get(NAME) || '?' : '';
  }

  /** The person asked to sign in with a code ({ code }) or a new name ({ name }), or with the credential ({}). */
  ask(way) {
    this.#asked = way;
  }

  /** The hello's way in, asked at every connect. */
  hello() {
    const credential = this.#get(CREDENTIAL) || this.#held;
    if (this.#asked.code) return { link_code: this.#asked.code };
    if (credential) return { credential };
    return { name: this.#asked.name || '' };
  }

  /** The server welcomed us: keeps a newly issued credential; later connects present it. */
  welcomed(ev) {
    this.user = ev.user;
    this.#asked = { name: ev.user.name }; // without a credential, the name again
    if (ev.credential) {
      this.#held = ev.credential;
      this.#set(CREDENTIAL, ev.credential);
    }
    this.#set(NAME, ev.user.name);
  }

  /** This identity has a new name (/nick). */
  renamed(name) {
    if (this.user) this.user = { ...this.user, name };
    this.#asked = { name };
    this.#set(NAME, name);
  }

  /** The credential is no good any more (revoked, or unknown to the server). */
  forget() {
    this.#set(CREDENTIAL, '');
    this.#held = '';
    this.user = null;
  }
}
