// The community forum in a real browser: a customer signs in through the portal's
// emailed link (caught by a tiny SMTP sink standing in for the relay), asks a question
// (suggestions appear while typing), an agent answers with a badge, the customer votes
// for the answer and accepts it. axe-core checks the topic list and a topic page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startApp, launchBrowser, assertAccessible, smtpSink, customerSignIn } from './harness.mjs';

let app, base, browser, sink;
const api = (...a) => app.api(...a);
const axe = assertAccessible;

before(async () => {
  sink = await smtpSink();
  app = await startApp({
    name: 'community', tickets: 20, customers: 10,
    env: { RAPPORT_SMTP_RELAY: `smtp://127.0.0.1:${sink.port}` },
  });
  base = app.base;
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  app?.stop();
  sink?.close();
});

test('a customer asks, an agent answers, the customer votes and accepts', async () => {
  const email = `forum${Date.now()}@example.com`;
  // Sign-in links go out From a mailbox of the help desk.
  const mailboxes = await api('GET', '/api/v1/mailboxes');
  if (mailboxes.length === 0) {
    await api('POST', '/api/v1/mailboxes', { address: 'help@community.example', name: 'Community help', acknowledge: false });
  }
  await api('POST', '/api/v1/tickets', { subject: 'Hello', body: 'First contact', customer: { email, name: 'Fern Quill' } });
  const earlier = `Kettle descaling schedule ${Date.now()}`;

  // The customer: the emailed link, the confirm button, then the community.
  const ctx = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const customer = await ctx.newPage();
  await customerSignIn(app, customer, sink, email);

  // An agent posts a thread first, so the customer's typing finds it.
  const agentCtx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const agent = await agentCtx.newPage();
  await app.signIn(agent, 'admin@example.com');
  await agent.goto(base + '/community');
  await agent.getByLabel('Your question').fill(earlier);
  await agent.getByLabel('Details').fill('Descale every month with citric acid.');
  await agent.getByRole('button', { name: 'Post question' }).click();
  await agent.waitForURL(/\/community\/topics\/\d+$/);

  await customer.goto(base + '/community');
  await axe(customer, '/community');
  const title = `My kettle descaling light stays on ${Date.now()}`;
  await customer.getByLabel('Your question').pressSequentially('kettle descaling', { delay: 20 });
  await customer.locator('#c-suggest').getByRole('link', { name: earlier }).waitFor({ timeout: 10000 });
  await customer.getByLabel('Your question').fill(title);
  await customer.getByLabel('Details').fill('I descaled it but the light is still on.');
  await customer.getByRole('button', { name: 'Post question' }).click();
  await customer.waitForURL(/\/community\/topics\/\d+$/);
  const topicUrl = customer.url();
  await customer.getByRole('heading', { name: title }).waitFor();

  // The agent answers; the answer is badged.
  await agent.goto(topicUrl);
  await agent.getByLabel('Answer', { exact: true }).fill('Hold the **descale** button for five seconds to reset the light.');
  await agent.getByRole('button', { name: 'Post answer' }).click();
  await agent.waitForURL(/#post-\d+$/);

  // The customer votes for it and accepts it.
  await customer.goto(topicUrl);
  const answer = customer.getByRole('article', { name: /Answer by/ });
  await answer.getByText('Agent', { exact: true }).waitFor();
  await answer.getByRole('button', { name: 'Vote up' }).click();
  await customer.waitForURL(/#post-\d+$/);
  await customer.getByRole('article', { name: /Answer by/ }).getByText('1 vote', { exact: true }).waitFor();
  await customer.getByRole('button', { name: 'Accept this answer' }).click();
  await customer.getByText('Accepted answer').waitFor();
  await axe(customer, 'a topic page');

  const id = Number(topicUrl.match(/(\d+)$/)[1]);
  const thread = await api('GET', `/api/v1/community/topics/${id}`);
  assert.equal(thread.topic.accepted_post_id, thread.posts[1].id);
  assert.equal(thread.posts[1].author.agent, true);
  assert.equal(thread.posts[1].votes, 1);
  await ctx.close();
  await agentCtx.close();
});

test('anonymous visitors read and are asked to sign in', async () => {
  const page = await browser.newPage();
  await page.goto(base + '/community');
  await page.getByRole('link', { name: 'Sign in to ask' }).waitFor();
  await axe(page, '/community (anonymous)');
  await page.close();
});

test('signing in from a forum page comes back to it', async () => {
  const email = `back${Date.now()}@example.com`;
  await api('POST', '/api/v1/tickets', { subject: 'Hello', body: 'First contact', customer: { email, name: 'Rhea Back' } });
  const seen = sink.mails.length;
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(base + '/community');
  await page.getByRole('link', { name: 'Sign in to ask' }).click();
  await page.waitForURL(/\/portal\/signin\?next=/);
  await page.getByLabel('Email').fill(email);
  await page.getByRole('button', { name: /link/i }).click();
  await page.getByRole('heading', { name: 'Check your email' }).waitFor();
  let link = null;
  for (let i = 0; i < 200 && !link; i++) {
    for (const m of sink.mails.slice(seen)) {
      // Quoted-printable: soft line breaks, then escaped bytes.
      const text = m.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));
      const found = text.match(/\/portal\/signin\/[0-9a-f]{64}\?next=\S+/);
      if (found) link = found[0];
    }
    if (!link) await new Promise((ok) => setTimeout(ok, 100));
  }
  assert.ok(link, 'a sign-in link that carries the forum page');
  await page.goto(base + link);
  await page.getByRole('button', { name: /sign in/i }).click();
  await page.waitForURL((u) => u.pathname === '/community');
  await page.getByLabel('Your question').waitFor();
  await ctx.close();
});
