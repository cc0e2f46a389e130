// Acceptance for the assistant bot in live chat and the handoff to a person, in a real
// browser, driven by accessible names as a screen-reader user would: a visitor on a page
// with the widget opens "Chat with us", types in "Message", presses "Send"; the bot's
// answer links the knowledge-base article it used and asks "Did that solve it?"; "Talk to
// a person" hands the chat over (a person is coming, with the expected reply time); an
// agent in a second browser context finds the ticket by searching its text, sees the
// bot's summary at the top, opens it and replies; the visitor sees the reply live; a
// reload keeps the whole conversation, each message once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startApp, launchBrowser, assertAccessible, freePort } from './harness.mjs';

let app, browser, site, siteBase;
const stamp = Date.now();

before(async () => {
  app = await startApp({ name: 'handoff', tickets: 5, customers: 3 });
  const port = await freePort();
  siteBase = `http://localhost:${port}`;
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Shop</title></head>
<body><main><h1>Shop</h1></main>
<script src="${app.base}/widget.js" async></script></body></html>`;
  site = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(html);
  });
  await new Promise((ok) => site.listen(port, '127.0.0.1', ok));
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  app?.stop();
  site?.close();
});

test('the bot answers with its source, hands over to a person who replies live', async () => {
  const visitor = await browser.newContext();
  const agentCtx = await browser.newContext();
  try {
    const page = await visitor.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(siteBase + '/');
    await page.getByRole('button', { name: 'Chat with us' }).click();
    const dialog = page.getByRole('dialog', { name: 'Chat' });
    await dialog.waitFor();
    const log = dialog.getByRole('log');
    const question = `How do I reset my password? My account is kettle${stamp}.`;
    await dialog.getByLabel('Message').fill(question);
    await dialog.getByRole('button', { name: 'Send' }).click();

    // The bot's answer: a link to the knowledge-base article it used, and Yes / No.
    const answer = log.getByRole('listitem').filter({ hasText: 'Did that solve it?' });
    await answer.waitFor({ timeout: 15000 });
    const kb = answer.getByRole('link').filter({ hasText: /password/i }).last();
    const href = await kb.getAttribute('href');
    assert.ok(href.startsWith(app.base + '/help/articles/reset-your-password'), href);
    await answer.getByRole('button', { name: 'Yes' }).waitFor();
    await answer.getByRole('button', { name: 'No' }).waitFor();
    await assertAccessible(page, 'the widget with a bot answer');

    // "Talk to a person": the bot says a person is coming and roughly when.
    await dialog.getByRole('button', { name: 'Talk to a person' }).click();
    const coming = log.getByRole('listitem').filter({ hasText: 'they will see everything you wrote' });
    await coming.waitFor({ timeout: 15000 });
    assert.match(await coming.textContent(), /answer|reply/);

    // The agent finds the chat by searching its text, sees the summary, and replies.
    const agent = await agentCtx.newPage();
    await app.signIn(agent, 'admin@example.com');
    const search = agent.getByRole('searchbox').first();
    await search.fill(`kettle${stamp}`);
    await search.press('Enter');
    await agent.waitForURL(/\/search/);
    await agent.getByRole('link', { name: /reset my password/ }).first().click();
    await agent.waitForURL(/\/tickets\/\d+/);
    await agent.getByRole('heading', { name: "The assistant bot's summary" }).waitFor();
    await agent.getByText('Question: How do I reset my password?').first().waitFor();
    await assertAccessible(agent, 'a handed-over chat ticket');
    const reply = `A person here: I sent you a reset link for kettle${stamp}.`;
    await agent.getByLabel('Reply').fill(reply);
    await agent.getByRole('button', { name: 'Send' }).click();

    // The visitor sees it live.
    await log.getByRole('listitem').filter({ hasText: reply }).waitFor({ timeout: 15000 });

    // A reload keeps the conversation: question, answer, notice and reply, once each.
    await page.reload();
    await page.getByRole('button', { name: 'Chat with us' }).click();
    const items = page.getByRole('log').getByRole('listitem');
    await items.filter({ hasText: reply }).waitFor({ timeout: 15000 });
    assert.equal(await items.filter({ hasText: question }).count(), 1, 'the question once');
    assert.equal(await items.filter({ hasText: 'Did that solve it?' }).count(), 1, 'the answer once');
    assert.equal(await items.filter({ hasText: 'they will see everything you wrote' }).count(), 1);
    assert.equal(await items.filter({ hasText: reply }).count(), 1, 'the reply once');
    assert.deepEqual(errors, []);
  } finally {
    await visitor.close();
    await agentCtx.close();
  }
});
