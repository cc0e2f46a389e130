// What every browser test shares: start the real `rapport` binary on a scratch database
// (the demo, on a free port), call its API with the admin token, launch Debian's chromium
// through playwright-core, sign an agent in, and run axe-core on a page.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import net from 'node:net';
import { chromium } from 'playwright-core';

export const root = resolve(import.meta.dirname, '../..');
export const bin = process.env.RAPPORT_BIN || join(root, 'target/debug/rapport');
/// The demo's password for every agent.
export const PASSWORD = 'rapport-demo';

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export function freePort() {
  return new Promise((ok) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => ok(p)); });
  });
}

/// Starts `rapport demo` on a fresh data directory and a free port; resolves once the
/// admin's API token is printed. `env` adds variables (a relay, a limit…).
export async function startApp({ name, tickets, customers, env = {} }) {
  const dir = mkdtempSync(join(tmpdir(), `rapport-${name}-`));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const server = spawn(bin, ['demo', '--tickets', String(tickets), '--customers', String(customers)], {
    env: { ...process.env, RAPPORT_DATA_DIR: dir, RAPPORT_HTTP_ADDR: `127.0.0.1:${port}`, DATABASE_URL: '', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  const token = await new Promise((ok, fail) => {
    const t = setTimeout(() => fail(new Error('rapport demo did not start: ' + out)), 60000);
    server.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/API token \(admin\): (\S+)/);
      if (m) { clearTimeout(t); ok(m[1]); }
    });
    server.on('exit', (c) => fail(new Error(`rapport exited with ${c}: ${out}`)));
  });
  return new App(server, base, token);
}

export class App {
  constructor(server, base, token) {
    this.server = server;
    this.base = base;
    this.token = token;
  }

  /// Calls the API as the admin (or with `token`) and fails the test on anything but 2xx.
  async api(method, path, body, token = this.token) {
    const r = await fetch(this.base + path, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body ? JSON.stringify(body) : undefined,
    });
    const json = r.status === 204 ? null : await r.json();
    assert.ok(r.ok, `${method} ${path}: ${r.status} ${JSON.stringify(json)}`);
    return json;
  }

  /// Signs an agent of the demo in on `page` and waits for the inbox.
  async signIn(page, email) {
    await page.goto(this.base + '/login');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/inbox/);
  }

  stop() {
    this.server.kill('SIGTERM');
  }
}

export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}

/// Runs axe-core on the page and fails on any serious or critical violation. The checker
/// is evaluated through the browser's debugging protocol, so the page's CSP does not stop it.
export async function assertAccessible(page, what) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(() =>
    // eslint-disable-next-line no-undef
    axe.run(document, { resultTypes: ['violations'] }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(
    bad.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`),
    [],
    `axe found serious or critical problems on ${what}`,
  );
}

/// Just enough SMTP to stand in for the relay: every message it is given is kept in
/// `mails` (raw, as sent). Pass `smtp://127.0.0.1:${sink.port}` as RAPPORT_SMTP_RELAY.
export function smtpSink() {
  const mails = [];
  return new Promise((ok) => {
    const server = net.createServer((sock) => {
      let buf = '';
      let data = false;
      sock.write('220 sink ESMTP\r\n');
      sock.on('data', (d) => {
        buf += d.toString('latin1');
        for (;;) {
          if (data) {
            const end = buf.indexOf('\r\n.\r\n');
            if (end < 0) return;
            mails.push(buf.slice(0, end));
            buf = buf.slice(end + 5);
            data = false;
            sock.write('250 kept\r\n');
            continue;
          }
          const nl = buf.indexOf('\r\n');
          if (nl < 0) return;
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 2);
          const verb = line.slice(0, 4).toUpperCase();
          if (verb === 'EHLO' || verb === 'HELO') sock.write('250 sink\r\n');
          else if (verb === 'DATA') { data = true; sock.write('354 go on\r\n'); }
          else if (verb === 'QUIT') { sock.end('221 bye\r\n'); return; }
          else sock.write('250 ok\r\n');
        }
      });
      sock.on('error', () => {});
    });
    server.listen(0, '127.0.0.1', () => ok({
      mails,
      port: server.address().port,
      close: () => server.close(),
    }));
  });
}

/// Signs the customer `email` in to the portal on `page` through the emailed link (caught
/// by `sink`): asks for the link, follows it, confirms. The customer must exist and the
/// help desk must have a mailbox to send from.
export async function customerSignIn(app, page, sink, email) {
  const seen = sink.mails.length;
  await page.goto(app.base + '/portal/signin');
  await page.getByLabel('Email').fill(email);
  await page.getByRole('button', { name: /link/i }).click();
  let link;
  for (let i = 0; i < 200 && !link; i++) {
    for (const m of sink.mails.slice(seen)) {
      const found = m.replace(/=\r\n/g, '').match(/\/portal\/signin\/([0-9a-f]{64})/);
      if (found) link = `/portal/signin/${found[1]}`;
    }
    if (!link) await new Promise((ok) => setTimeout(ok, 100));
  }
  assert.ok(link, 'no sign-in link arrived');
  await page.goto(app.base + link);
  await page.getByRole('button', { name: /sign in/i }).click();
  await page.waitForURL(/\/portal\/requests/);
}
