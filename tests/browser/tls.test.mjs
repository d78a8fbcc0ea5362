// The page over HTTPS and the chat over WSS, served by chat-server itself
// with a certificate from a CA this test makes (with openssl, the commands
// OPERATIONS.md shows). Chromium trusts that CA the way a person's browser
// would: it is added to an NSS certificate database (certutil) in the HOME
// the browser runs with, not by ignoring certificate errors. A browser
// without it refuses the page.
//
// Needs openssl and certutil (Debian: openssl, libnss3-tools); skipped
// without them unless CI is set.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { browserSuite, entry, joinAs, launchBrowser, openPage, sendFromPage, startServer, waitForUsers } from './lib/harness.mjs';

const CI = Boolean(process.env.CI) && !/^(0|false)$/i.test(process.env.CI);

function missingTool() {
  for (const [tool, args, pkg] of [
    ['openssl', ['version'], 'openssl'],
    ['certutil', ['-H'], 'libnss3-tools'],
  ]) {
    try {
      execFileSync(tool, args, { stdio: 'ignore' });
    } catch (err) {
      // certutil -H exits non-zero after printing its help; only a missing
      // program is a problem.
      if (err.code === 'ENOENT') return `${tool} is not installed (apt-get install ${pkg})`;
    }
  }
  return null;
}

// A CA, and a certificate for localhost and 127.0.0.1 signed by it.
function makeCertificates(dir) {
  const run = (...args) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  run('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '30',
    '-subj', '/CN=chat browser test CA', '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-keyout', 'ca.key', '-out', 'ca.pem');
  run('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=localhost',
    '-keyout', 'key.pem', '-out', 'cert.csr');
  writeFileSync(path.join(dir, 'cert.ext'),
    'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n');
  run('x509', '-req', '-in', 'cert.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '30',
    '-extfile', 'cert.ext', '-out', 'cert.pem');
}

// A HOME whose NSS database trusts the CA for websites.
function homeTrusting(dir, caFile) {
  const home = path.join(dir, 'home');
  const db = path.join(home, '.pki', 'nssdb');
  mkdirSync(db, { recursive: true });
  execFileSync('certutil', ['-N', '-d', `sql:${db}`, '--empty-password'], { stdio: 'pipe' });
  execFileSync('certutil', ['-A', '-d', `sql:${db}`, '-n', 'chat browser test CA', '-t', 'C,,', '-i', caFile], { stdio: 'pipe' });
  return home;
}

const missing = missingTool();
if (missing && !CI) {
  process.stdout.write(`SKIP browser tests (HTTPS): ${missing}\n`);
  test('the page over HTTPS', { skip: missing }, () => {});
} else if (missing) {
  test('the page over HTTPS', () => {
    throw new Error(`cannot run the HTTPS browser tests: ${missing}; CI is set, so this is a failure`);
  });
} else {
  await browserSuite('the page over HTTPS', ({ pw }) => {
    let dir;
    let server;
    let trusting;
    let stranger;
    const open = [];

    before(async () => {
      dir = mkdtempSync(path.join(os.tmpdir(), 'chat-browser-tls-'));
      makeCertificates(dir);
      const home = homeTrusting(dir, path.join(dir, 'ca.pem'));
      const emptyHome = path.join(dir, 'empty-home');
      mkdirSync(emptyHome);
      server = await startServer({
        args: ['--tls-cert', path.join(dir, 'cert.pem'), '--tls-key', path.join(dir, 'key.pem')],
      });
      trusting = await launchBrowser(pw, { env: { ...process.env, HOME: home } });
      stranger = await launchBrowser(pw, { env: { ...process.env, HOME: emptyHome } });
    });

    after(async () => {
      for (const item of open) await item.close().catch(() => {});
      await trusting?.close();
      await stranger?.close();
      await server?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    test('a browser that trusts the CA chats over https:// and wss://', async () => {
      assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/);
      const ann = await joinAs(trusting, server.url, 'ann', 'dev');
      open.push(ann);
      const bob = await joinAs(trusting, server.url.replace('127.0.0.1', 'localhost'), 'bob', 'dev');
      open.push(bob);
      await waitForUsers(ann.page, ['ann', 'bob']);
      assert.equal(await ann.page.evaluate(() => location.protocol), 'https:');
      await sendFromPage(ann.page, 'sealed from end to end');
      await entry(bob.page, 'sealed from end to end').waitFor();
      assert.deepEqual(ann.problems, []);
      assert.deepEqual(bob.problems, []);
    });

    test('a browser that does not trust the CA refuses the page', async () => {
      await assert.rejects(openPage(stranger, `${server.url}/`), /ERR_CERT_AUTHORITY_INVALID/);
    });
  });
}
