// The knowledge base in the agent workspace, in a real browser: write an article with the
// live preview, publish it, link it into a reply from the ticket page, and manage the
// categories (axe-core, the accessibility checker nobody here wrote, checks that page).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import net from 'node:net';
import { chromium } from 'playwright-core';

const root = resolve(import.meta.dirname, '../..');
const bin = process.env.RAPPORT_BIN || join(root, 'target/debug/rapport');
const PASSWORD = 'rapport-demo';
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

let server, base, token, browser;

function freePort() {
  return new Promise((ok) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => ok(p)); });
  });
}

async function api(method, path, body) {
  const r = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await r.json();
  assert.ok(r.ok, `${method} ${path}: ${r.status} ${JSON.stringify(json)}`);
  return json;
}

/// Runs axe-core on the page and fails on any serious or critical violation.
async function assertAccessible(page, what) {
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

async function signIn(page, email) {
  await page.goto(base + '/login');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/inbox/);
}

before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rapport-kb-browser-'));
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  server = spawn(bin, ['demo', '--tickets', '20', '--customers', '10'], {
    env: { ...process.env, RAPPORT_DATA_DIR: dir, RAPPORT_HTTP_ADDR: `127.0.0.1:${port}`, DATABASE_URL: '' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  await new Promise((ok, fail) => {
    const t = setTimeout(() => fail(new Error('rapport demo did not start: ' + out)), 60000);
    server.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/API token \(admin\): (\S+)/);
      if (m) { token = m[1]; clearTimeout(t); ok(); }
    });
    server.on('exit', (c) => fail(new Error(`rapport exited with ${c}: ${out}`)));
  });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-quic'],
  });
});

after(async () => {
  await browser?.close();
  server?.kill('SIGTERM');
});

test('an agent writes an article with a live preview and publishes it', async () => {
  const title = `Replacing a blender lid ${Date.now()}`;
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await signIn(page, 'admin@example.com');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Knowledge base' }).click();
  await page.waitForURL(/\/kb$/);
  await page.getByRole('link', { name: 'New article' }).click();
  await page.waitForURL(/\/kb\/new$/);
  await page.getByLabel('Title').fill(title);
  await page.getByLabel('Body (markdown)').fill('Order a new lid from the shop.\n\n## Fitting the new lid\n\nPress until it clicks.\n\n<script>window.pwned = 1</script>');
  // The preview follows the typing: the heading appears with its anchor, in the contents too.
  const preview = page.getByRole('region', { name: 'Preview' });
  await preview.getByRole('heading', { name: 'Fitting the new lid' }).waitFor();
  assert.equal(await page.locator('#kb-preview h2').getAttribute('id'), 'fitting-the-new-lid');
  await page.getByRole('navigation', { name: 'Contents of the preview' }).getByRole('link', { name: 'Fitting the new lid' }).waitFor();
  assert.equal(await page.evaluate(() => window.pwned), undefined, 'the preview runs no script');
  await page.getByLabel('Status').selectOption('published');
  await page.getByLabel('Tags (comma-separated)').fill('blender, lid');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.waitForURL(/\/kb\/articles\/\d+\/edit/);
  const id = Number(page.url().match(/articles\/(\d+)/)[1]);
  const a = await api('GET', `/api/v1/kb/articles/${id}`);
  assert.equal(a.status, 'published');
  assert.equal(a.title, title);
  assert.deepEqual(a.tags, ['blender', 'lid']);
  assert.ok(a.published_at);

  // A second version, then the history shows what changed.
  await page.getByLabel('Body (markdown)').fill('Order a new lid from the shop.\n\n## Fitting the new lid\n\nPress firmly until it clicks.');
  await page.getByLabel('What did you change?').fill('firmly');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.waitForURL(/\/edit\?lang=en$/);
  await page.getByRole('link', { name: 'History' }).click();
  await page.getByText('Press firmly until it clicks.').waitFor();
  assert.equal(await page.locator('.kb-diff ins').first().textContent(), 'Press firmly until it clicks.');

  // The list shows it published.
  await page.goto(base + '/kb?status=published');
  await page.getByRole('link', { name: title }).waitFor();
  await page.close();
});

test('an agent links an article into a reply from the ticket page', async () => {
  const title = `Descaling the kettle ${Date.now()}`;
  const a = await api('POST', '/api/v1/kb/articles', { title, body: 'Use vinegar.', status: 'published', visibility: 'public' });
  const t = await api('POST', '/api/v1/tickets', {
    subject: 'Kettle is furry inside', body: 'White stuff everywhere.', customer: { email: 'kettle@example.com' },
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await signIn(page, 'admin@example.com');
  await page.goto(`${base}/tickets/${t.id}`);
  await page.getByLabel('Reply').fill('Hello! ');
  await page.getByLabel('Insert article').fill('descaling');
  await page.getByRole('button', { name: title }).click();
  const reply = await page.getByLabel('Reply').inputValue();
  assert.match(reply, new RegExp(`^Hello! \\[${title}\\]\\(.*/help/articles/${a.slug}\\)$`));
  await page.getByRole('button', { name: 'Send' }).click();
  await page.getByRole('article', { name: /reply from/ }).getByRole('link', { name: title }).waitFor();
  // And the reply becomes a draft article in one click.
  await page.getByRole('button', { name: 'Make article' }).first().click();
  await page.waitForURL(/\/kb\/articles\/\d+\/edit$/);
  assert.equal(await page.getByLabel('Title').inputValue(), 'Kettle is furry inside');
  assert.equal(await page.getByLabel('Status').inputValue(), 'draft');
  await page.close();
});

test('a supervisor adds, renames, orders and deletes categories', async () => {
  const name = `Blenders ${Date.now()}`;
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await signIn(page, 'admin@example.com');
  await page.goto(base + '/kb');
  await page.getByRole('main').getByRole('link', { name: 'Categories', exact: true }).click();
  await page.waitForURL(/\/kb\/categories$/);
  await assertAccessible(page, 'the categories page');

  const add = page.getByRole('form', { name: 'New category', exact: true });
  await add.getByLabel('Name', { exact: true }).fill(name);
  await add.getByLabel('Position', { exact: true }).fill('-1');
  await add.getByRole('button', { name: 'Add category' }).click();
  await page.waitForURL(/\/kb\/categories$/);
  const form = page.getByRole('form', { name, exact: true });
  assert.equal(await form.getByLabel('Slug', { exact: true }).inputValue(), name.toLowerCase().replace(' ', '-'));
  let cats = await api('GET', '/api/v1/kb/categories');
  assert.equal(cats[0].name, name, 'position -1 puts it first');

  // Renamed and moved last.
  await form.getByLabel('Name', { exact: true }).fill(`${name} and mixers`);
  await form.getByLabel('Position', { exact: true }).fill('99');
  await form.getByRole('button', { name: `Save ${name}`, exact: true }).click();
  await page.waitForURL(/\/kb\/categories$/);
  cats = await api('GET', '/api/v1/kb/categories');
  assert.equal(cats.at(-1).name, `${name} and mixers`);

  // A category holding articles says why it cannot go; an empty one goes.
  const full = cats.find((k) => k.articles > 0);
  await page.getByRole('form', { name: full.name, exact: true }).waitFor();
  assert.equal(await page.getByRole('button', { name: `Delete ${full.name}`, exact: true }).count(), 0);
  await page.getByRole('button', { name: `Delete ${name} and mixers`, exact: true }).click();
  await page.waitForURL(/\/kb\/categories$/);
  await page.getByRole('form', { name: 'New category', exact: true }).waitFor();
  assert.equal(await page.getByRole('form', { name: `${name} and mixers`, exact: true }).count(), 0);
  await assertAccessible(page, 'the categories page after changes');

  // Bad input: the refusal is announced, and the page is still accessible.
  await page.getByRole('form', { name: 'New category', exact: true }).getByLabel('Name', { exact: true }).fill('Twice');
  await page.getByRole('form', { name: 'New category', exact: true }).getByLabel('Slug', { exact: true }).fill(full.slug);
  await page.getByRole('button', { name: 'Add category' }).click();
  await page.getByRole('alert').getByText('already exists').waitFor();
  await assertAccessible(page, 'the categories page with an error');
  await page.close();
});
