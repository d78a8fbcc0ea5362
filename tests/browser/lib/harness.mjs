// Shared helpers for the browser tests: a real chat-server process on a
// loopback port, headless Chromium through playwright-core, and a raw
// protocol client speaking WebSocket directly (as the terminal client does).
//
// Environment:
//   CHAT_SERVER_BIN  path to the chat-server binary (default: target/debug/chat-server)
//   CHROMIUM_PATH    path to the Chromium binary (default: /usr/bin/chromium)
//   CI               when set, missing prerequisites fail the tests instead of skipping them

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(here, '..', '..', '..');
export const SERVER_BIN = process.env.CHAT_SERVER_BIN || path.join(REPO, 'target', 'debug', 'chat-server');
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
  '--disable-quic',
];

// Every wait in these tests is bounded by one of these.
export const WAIT_MS = 10_000;
const SERVER_START_MS = 20_000;
const SERVER_STOP_MS = 10_000;

let prereq;

// Loads playwright-core and ws and checks that Chromium and the server binary
// exist. Returns { pw, WebSocket } or { missing: "why" }.
export async function prerequisites() {
  if (prereq) return prereq;
  let pw;
  let WebSocket;
  try {
    pw = await import('playwright-core');
    ({ WebSocket } = await import('ws'));
  } catch {
    prereq = { missing: 'node modules are not installed (run: npm ci --prefix tests/browser)' };
    return prereq;
  }
  if (!existsSync(CHROMIUM)) {
    prereq = { missing: `Chromium not found at ${CHROMIUM} (install it, e.g. apt-get install chromium, or set CHROMIUM_PATH)` };
  } else if (!existsSync(SERVER_BIN)) {
    prereq = { missing: `chat-server not found at ${SERVER_BIN} (run: cargo build -p server, or set CHAT_SERVER_BIN)` };
  } else {
    prereq = { pw, WebSocket };
  }
  return prereq;
}

const CI = Boolean(process.env.CI) && !/^(0|false)$/i.test(process.env.CI);

// describe() that skips with a clear message when something is missing, or
// fails when CI is set (CI must always run these tests).
export async function browserSuite(name, body) {
  const pre = await prerequisites();
  if (pre.missing) {
    if (CI) {
      test(name, () => {
        throw new Error(`cannot run browser tests: ${pre.missing}; CI is set, so this is a failure`);
      });
    } else {
      process.stdout.write(`SKIP browser tests (${name}): ${pre.missing}\n`);
      test(name, { skip: pre.missing }, () => {});
    }
    return;
  }
  describe(name, () => body(pre));
}

// ------------------------------------------------------------------ server

const children = new Set();
const dataDirs = new Set();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});

// Starts chat-server on 127.0.0.1:port (0 = any free port) and resolves once
// it printed "listening on http://127.0.0.1:PORT" (https:// with TLS). Its history lives in
// `dataDir` (a new temporary directory unless given, removed when the tests
// end); start it again with the same port and dataDir to restart it.
export async function startServer({ port = 0, dataDir, args = [] } = {}) {
  if (!dataDir) {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'chat-browser-test-'));
    dataDirs.add(dataDir);
  }
  // Every page, asset and socket of the suite comes from 127.0.0.1, dozens of
  // pages a minute, and a test file keeps its pages open until it ends: more
  // than the per-address connection rate and count a real person (or an
  // office behind one address) needs. Left on, they refuse whichever page
  // arrives when the bucket is empty or the count is full, so tests would
  // fail by how fast the machine runs them. The front door's limits have
  // tests of their own (server/tests/attacks); a test here may pass its own.
  const frontDoor = ['--connection-rate-per-ip', '0', '--max-connections-per-ip', '0'];
  const child = spawn(SERVER_BIN, ['--listen', `127.0.0.1:${port}`, '--data-dir', dataDir, ...frontDoor, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG || 'warn' },
  });
  children.add(child);
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr = (stderr + d).slice(-8000);
  });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  exited.then(() => children.delete(child));
  // What it printed: its addresses (the ssh listener's line comes after
  // the web one).
  let out = '';
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`chat-server printed no address within ${SERVER_START_MS} ms; stdout: ${out}; stderr: ${stderr}`));
    }, SERVER_START_MS);
    child.stdout.on('data', (d) => {
      out = (out + d).slice(-8000);
      const m = /listening on (https?:\/\/127\.0\.0\.1:(\d+))/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`chat-server exited (${code ?? signal}) before listening; stderr: ${stderr}`));
    });
  });
  child.stdout.resume();
  return {
    url,
    port: Number(new URL(url).port),
    dataDir,
    args,
    stderr: () => stderr,
    stdout: () => out,
    // SIGTERM, then SIGKILL if it does not stop in time.
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timeout = new Promise((resolve) => setTimeout(resolve, SERVER_STOP_MS, 'timeout'));
      if ((await Promise.race([exited, timeout])) === 'timeout') {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

// Starts a stopped server again on the port it had, with the same history,
// retrying a few times in case the port is not free yet.
export async function restartServer(server) {
  let lastError;
  for (let attempt = 0; attempt < 10; attempt++) {
    try {
      return await startServer({ port: server.port, dataDir: server.dataDir, args: server.args });
    } catch (err) {
      lastError = err;
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
  }
  throw lastError;
}

// ----------------------------------------------------------------- browser

// `env` replaces Chromium's environment (e.g. a HOME with its own NSS
// certificate database).
export async function launchBrowser(pw, { env } = {}) {
  return pw.chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30_000, env });
}

// Opens the page in a fresh browser context (its own cookies and
// permissions). `problems` collects page errors, console errors and dialogs:
// the page must never alert().
// `setup(context)`, if given, runs before the page opens (e.g. to route its
// WebSocket).
export async function openPage(browser, url, { setup, ...contextOptions } = {}) {
  const context = await browser.newContext({ viewport: { width: 1100, height: 720 }, ...contextOptions });
  if (setup) await setup(context);
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  page.setDefaultNavigationTimeout(WAIT_MS);
  const problems = [];
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`);
  });
  page.on('dialog', (dialog) => {
    problems.push(`dialog: ${dialog.type()} ${dialog.message()}`);
    dialog.dismiss().catch(() => {});
  });
  await page.goto(url);
  return { page, context, problems, close: () => context.close() };
}

// Opens the page with ?username=&room= and joins.
export async function joinAs(browser, baseUrl, name, room, contextOptions = {}) {
  const q = new URLSearchParams({ username: name, room });
  const user = await openPage(browser, `${baseUrl}/?${q}`, contextOptions);
  await user.page.getByTestId('join-submit').click();
  await user.page.getByTestId('message-input').waitFor({ state: 'visible' });
  return user;
}

// Names in a room_state's users ({ id, name }), in order.
export const names = (users) => users.map((u) => u.name);

// Names in the user list, in order.
export function userList(page) {
  return page.getByTestId('users').locator('li').evaluateAll((lis) => lis.map((li) => li.dataset.user));
}

// Polls fn() until it returns a truthy value, at most `timeout` ms.
export async function eventually(fn, { timeout = WAIT_MS, interval = 50, message = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeout} ms waiting for ${message} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    }
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}

export async function waitForUsers(page, expected) {
  return eventually(async () => JSON.stringify(await userList(page)) === JSON.stringify(expected), {
    message: `user list ${JSON.stringify(expected)} (now ${JSON.stringify(await userList(page).catch(() => null))})`,
  });
}

// The entry in the message list that contains `text`.
export function entry(page, text) {
  return page.getByTestId('messages').locator('li', { hasText: text });
}

export async function sendFromPage(page, text) {
  await page.getByTestId('message-input').fill(text);
  await page.getByTestId('message-input').press('Enter');
  await entry(page, text).last().waitFor();
}

// ------------------------------------------------------ raw protocol client

// A client that speaks the wire protocol directly, as the terminal client does.
export class ProtocolClient {
  constructor(ws) {
    this.ws = ws;
    this.events = [];
    this.waiters = new Set();
    this.nextId = 0;
    this.closed = new Promise((resolve) => ws.once('close', (code) => resolve(code)));
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const ev = JSON.parse(String(data));
      this.events.push(ev);
      for (const w of this.waiters) w();
    });
  }

  // Signs in with `who`: a name (registered on first use), or the hello's
  // way in ({ credential } or { link_code }). `welcome` keeps the answer
  // (user id, a newly issued credential).
  static async connect(WebSocket, baseUrl, who) {
    const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/ws`, { handshakeTimeout: WAIT_MS });
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const client = new ProtocolClient(ws);
    const way = typeof who === 'string' ? { name: who } : who;
    client.send({ type: 'hello', protocol: 2, ...way, client: 'browser-tests/0.2' });
    const welcome = await client.waitFor((ev) => ev.type === 'welcome' || ev.type === 'error');
    if (welcome.type !== 'welcome') {
      client.ws.close();
      throw new Error(`hello refused: ${JSON.stringify(welcome)}`);
    }
    client.name = welcome.name;
    client.welcome = welcome;
    return client;
  }

  send(ev) {
    this.ws.send(JSON.stringify(ev));
  }

  // Resolves with the first event (received so far or later) matching pred.
  waitFor(pred, { timeout = WAIT_MS, what = 'event' } = {}) {
    const found = this.events.find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const check = () => {
        const ev = this.events.find(pred);
        if (ev) {
          cleanup();
          resolve(ev);
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.events.slice(-10))}`));
      }, timeout);
      const cleanup = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
    });
  }

  // Sends a request and resolves with its ack.
  async request(ev) {
    const id = `t${++this.nextId}`;
    this.send({ ...ev, id });
    return this.waitFor((e) => e.type === 'ack' && e.id === id, { what: `ack of ${ev.type} ${id}` });
  }

  async join(room) {
    const ack = await this.request({ type: 'join', room });
    if (!ack.ok) throw new Error(`join ${room} failed: ${JSON.stringify(ack)}`);
  }

  async close() {
    if (this.ws.readyState === this.ws.OPEN || this.ws.readyState === this.ws.CONNECTING) this.ws.close(1000);
    await Promise.race([this.closed, new Promise((resolve) => setTimeout(resolve, WAIT_MS))]);
  }
}
