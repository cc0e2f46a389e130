// The chat widget's customer features in a real browser, embedded on a page of another
// origin, driven by accessible names: a signed-in site user's earlier conversations show
// (data-customer-id / data-signature); name and email go with the first message or later; the
// visitor's message says "Seen" once an agent opened the chat; files travel both ways
// (the agent's only with the visitor's token); the two email buttons; the admin's typing
// preview (the widget says so; the agent sees the text); and on the agent's side, a new
// chat arrives live with a desktop notification once alerts are turned on.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { startApp, launchBrowser, assertAccessible, freePort } from './harness.mjs';

let app, browser, site, siteBase;
const stamp = Date.now();
const SECRET = 'a site secret that is long enough to use in tests';
const sign = (id) => createHmac('sha256', SECRET).update(id).digest('hex');
const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');

before(async () => {
  app = await startApp({ name: 'widget-features', tickets: 3, customers: 2 });
  await app.api('PUT', '/api/v1/chat/settings', { identity_secret: SECRET });
  const port = await freePort();
  siteBase = `http://localhost:${port}`;
  // The shop: one page with a signed-in user, one anonymous.
  site = http.createServer((req, res) => {
    const signed = req.url.startsWith('/account')
      ? ` data-customer-id="shop-user-${stamp}" data-signature="${sign(`shop-user-${stamp}`)}"` : '';
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Kettle shop</title></head>
<body><main><h1>Kettle shop</h1></main>
<script src="${app.base}/widget.js"${signed} async></script></body></html>`);
  });
  await new Promise((ok) => site.listen(port, '127.0.0.1', ok));
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  app?.stop();
  site?.close();
});

async function until(what, fn) {
  for (let i = 0; i < 150; i++) {
    const v = await fn();
    if (v) return v;
    await new Promise((ok) => setTimeout(ok, 100));
  }
  assert.fail(`never: ${what}`);
}

async function ticketWith(text) {
  return until(`a ticket with ${text}`, async () => {
    const r = await app.api('GET', `/api/v1/search?q=${encodeURIComponent(text)}`);
    return r.hits.find((h) => h.ticket_id)?.ticket_id;
  });
}

test('a signed-in visitor: history, details, Seen, files both ways, email buttons', async () => {
  // An earlier conversation of this site user, and one of somebody else.
  const earlier = await fetch(`${app.base}/api/v1/chat/conversations`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ body: `Earlier question ${stamp}`, identity: { customer_id: `shop-user-${stamp}`, signature: sign(`shop-user-${stamp}`) } }),
  });
  assert.equal(earlier.status, 201);
  const earlierId = (await earlier.json()).conversation_id;
  await fetch(`${app.base}/api/v1/chat/conversations`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ body: `Somebody else ${stamp}`, identity: { customer_id: 'other-user', signature: sign('other-user') } }),
  });
  await app.api('POST', '/api/v1/mailboxes', { address: `support-${stamp}@example.com`, name: 'Support' });

  const visitor = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const agentCtx = await browser.newContext();
  try {
    const page = await visitor.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(siteBase + '/account');
    await page.getByRole('button', { name: 'Chat with us' }).click();
    const dialog = page.getByRole('dialog', { name: 'Chat' });
    const history = dialog.getByRole('region', { name: 'Earlier conversations' });
    await history.getByText(`Chat: Earlier question ${stamp}`, { exact: false }).click();
    await history.getByText(`Earlier question ${stamp}`, { exact: true }).waitFor();
    assert.equal(await history.getByText(`Somebody else ${stamp}`).count(), 0);

    // Name and email before the first message: they go with it.
    await dialog.getByText('Your details and email').click();
    await dialog.getByLabel('Name').fill('Ada Kettle');
    await dialog.getByLabel('Email').fill(`ada-${stamp}@example.org`);
    await dialog.getByRole('button', { name: 'Save details' }).click();
    await dialog.getByText('Saved: they go with your first message.').waitFor();
    const question = `Where is my kettle ${stamp}?`;
    await dialog.getByLabel('Message').fill(question);
    await dialog.getByRole('button', { name: 'Send' }).click();
    const log = dialog.getByRole('log');
    const mine = log.getByRole('listitem').filter({ hasText: question });
    await mine.getByText('Sent', { exact: true }).waitFor({ timeout: 10000 });
    const ticket = await ticketWith(question);
    // A verified user's chats stay with their customer (a typed address proves nothing;
    // it is where transcripts go, below).
    const t = await app.api('GET', `/api/v1/tickets/${ticket}`);
    const before = await app.api('GET', `/api/v1/tickets/${earlierId}`);
    assert.equal(t.customer.id, before.customer.id);
    assert.equal(await history.getByText(`Chat: Where is my kettle`, { exact: false }).count(), 0, 'the open chat is not "earlier"');

    // The visitor attaches a photo (by keyboard: the button opens the file chooser).
    const [chooser] = await Promise.all([
      page.waitForEvent('filechooser'),
      dialog.getByRole('button', { name: 'Attach a file' }).click(),
    ]);
    await chooser.setFiles({ name: 'kettle.png', mimeType: 'image/png', buffer: PNG });
    const photo = log.getByRole('listitem').filter({ has: page.getByRole('button', { name: 'Download kettle.png' }) });
    await photo.getByText('Sent', { exact: true }).waitFor({ timeout: 10000 });

    // An agent opens the chat: the visitor's messages say "Seen"; the photo is on the ticket.
    const agent = await agentCtx.newPage();
    await app.signIn(agent, 'admin@example.com');
    await agent.goto(`${app.base}/tickets/${ticket}`);
    await agent.getByText('kettle.png').first().waitFor();
    await mine.getByText('Seen', { exact: true }).waitFor({ timeout: 15000 });
    await photo.getByText('Seen', { exact: true }).waitFor({ timeout: 15000 });

    // The agent's attachment reaches the visitor as a download only their token opens.
    await app.api('POST', `/api/v1/tickets/${ticket}/messages`, {
      body: `Your label ${stamp}`,
      attachments: [{ filename: 'label.pdf', content_type: 'application/pdf', data_base64: Buffer.from('%PDF-1.4 label').toString('base64') }],
    });
    const label = dialog.getByRole('button', { name: 'Download label.pdf' });
    await label.waitFor({ timeout: 15000 });
    const [download] = await Promise.all([page.waitForEvent('download'), label.click()]);
    assert.equal(download.suggestedFilename(), 'label.pdf');
    assert.equal(readFileSync(await download.path(), 'latin1'), '%PDF-1.4 label');

    // The email buttons.
    await dialog.getByRole('button', { name: 'Email me the transcript' }).click();
    await log.getByText(`The transcript is on its way to ada-${stamp}@example.org.`).waitFor({ timeout: 10000 });
    await dialog.getByRole('button', { name: 'Continue by email' }).click();
    await log.getByText(`We will answer by email at ada-${stamp}@example.org.`).waitFor({ timeout: 10000 });
    assert.equal((await app.api('GET', `/api/v1/tickets/${ticket}`)).channel, 'email');
    await assertAccessible(page, 'the chat widget with its details open');
    assert.deepEqual(errors, []);
  } finally {
    await visitor.close();
    await agentCtx.close();
  }
});

test('an anonymous visitor gives an address after the first message', async () => {
  const visitor = await browser.newContext();
  try {
    const page = await visitor.newPage();
    await page.goto(siteBase + '/');
    await page.getByRole('button', { name: 'Chat with us' }).click();
    const dialog = page.getByRole('dialog', { name: 'Chat' });
    assert.ok(await dialog.getByRole('region', { name: 'Earlier conversations' }).isHidden());
    const question = `Anonymous ${stamp} here`;
    await dialog.getByLabel('Message').fill(question);
    await dialog.getByRole('button', { name: 'Send' }).click();
    await dialog.getByRole('log').getByText('Sent', { exact: true }).waitFor({ timeout: 10000 });
    await dialog.getByText('Your details and email').click();
    await dialog.getByLabel('Email').fill('not an address');
    await dialog.getByRole('button', { name: 'Save details' }).click();
    await dialog.getByRole('log').getByText(/^email: /).waitFor({ timeout: 10000 });
    await dialog.getByLabel('Email').fill(`later-${stamp}@example.org`);
    await dialog.getByRole('button', { name: 'Save details' }).click();
    await dialog.getByRole('log').getByText('Details saved.').waitFor({ timeout: 10000 });
    const t = await app.api('GET', `/api/v1/tickets/${await ticketWith(question)}`);
    assert.equal(t.customer.email, `later-${stamp}@example.org`);
  } finally {
    await visitor.close();
  }
});

test('typing preview: off by default; when on, the widget says so and the agent sees the text', async () => {
  await app.api('PUT', '/api/v1/chat/settings', { typing_preview: true });
  const visitor = await browser.newContext();
  const agentCtx = await browser.newContext();
  try {
    const page = await visitor.newPage();
    await page.goto(siteBase + '/');
    await page.getByRole('button', { name: 'Chat with us' }).click();
    const dialog = page.getByRole('dialog', { name: 'Chat' });
    const question = `Preview ${stamp} please`;
    await dialog.getByLabel('Message').fill(question);
    await dialog.getByRole('button', { name: 'Send' }).click();
    await dialog.getByText('Agents can see what you type before you send it.').waitFor({ timeout: 10000 });
    const ticket = await ticketWith(question);
    const agent = await agentCtx.newPage();
    await app.signIn(agent, 'admin@example.com');
    await agent.goto(`${app.base}/tickets/${ticket}`);
    await dialog.getByLabel('Message').pressSequentially('my order number is 4711', { delay: 20 });
    await agent.getByText('The visitor is typing: “my order number is 4711”').waitFor({ timeout: 15000 });
  } finally {
    await app.api('PUT', '/api/v1/chat/settings', { typing_preview: false });
    await visitor.close();
    await agentCtx.close();
  }
  // Off again: a new widget says nothing about it.
  const again = await browser.newContext();
  try {
    const page = await again.newPage();
    await page.goto(siteBase + '/');
    await page.getByRole('button', { name: 'Chat with us' }).click();
    const dialog = page.getByRole('dialog', { name: 'Chat' });
    await dialog.getByLabel('Message').fill(`No preview ${stamp}`);
    await dialog.getByRole('button', { name: 'Send' }).click();
    await dialog.getByRole('log').getByText('Sent', { exact: true }).waitFor({ timeout: 10000 });
    assert.ok(await dialog.getByText('Agents can see what you type before you send it.').isHidden());
  } finally {
    await again.close();
  }
});

test('a new chat reaches the workspace live, with a notification once alerts are on', async () => {
  const agentCtx = await browser.newContext();
  try {
    await agentCtx.grantPermissions(['notifications'], { origin: app.base });
    const agent = await agentCtx.newPage();
    // Watch the notifications the page shows (the real API still runs).
    await agent.addInitScript(() => {
      const Real = window.Notification;
      window.__shown = [];
      window.Notification = class extends Real {
        constructor(title, o) { super(title, o); window.__shown.push({ title, body: o && o.body }); }
      };
    });
    await app.signIn(agent, 'admin@example.com');
    const toggle = agent.getByRole('button', { name: 'Turn on chat alerts' });
    assert.equal(await toggle.getAttribute('aria-pressed'), 'false');
    await toggle.click();
    const on = agent.getByRole('button', { name: 'Chat alerts on' });
    assert.equal(await on.getAttribute('aria-pressed'), 'true');
    await new Promise((ok) => setTimeout(ok, 500)); // the live stream is open
    const r = await fetch(`${app.base}/api/v1/chat/conversations`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ body: `Brand new chat ${stamp}` }),
    });
    assert.equal(r.status, 201);
    const news = agent.getByRole('status').getByRole('link', { name: `New chat: Chat: Brand new chat ${stamp}` });
    await news.waitFor({ timeout: 15000 });
    const shown = await until('a notification', () => agent.evaluate(() => window.__shown.length && window.__shown));
    assert.deepEqual(shown, [{ title: 'New chat', body: `Chat: Brand new chat ${stamp}` }]);
    await assertAccessible(agent, 'the inbox with chat alerts');
  } finally {
    await agentCtx.close();
  }
});
