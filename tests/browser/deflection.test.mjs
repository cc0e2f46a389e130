// Deflection, measured, in a real browser: a signed-in customer types a request on the
// portal, sees a suggested article (in the form's live region), opens it and leaves
// without writing — the supervisors' report counts one deflection once the 30 minutes
// are over. Another visitor opens a suggestion and submits anyway: the agent sees at the
// top of the ticket what they read. axe-core checks the form with suggestions shown.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startApp, launchBrowser, assertAccessible, smtpSink, customerSignIn,
} from './harness.mjs';

let app, browser, sink, supervisor, article;
const stamp = Date.now();

/// The deflection report as the supervisor reads it 31 minutes from now, when every
/// attempt of this test is settled.
async function settled() {
  const asOf = new Date(Date.now() + 31 * 60 * 1000).toISOString();
  const r = await app.api('GET', `/api/v1/kb/reports/deflection?as_of=${encodeURIComponent(asOf)}`, null, supervisor);
  return r.total;
}

/// Waits until the report says what `want` checks (beacons arrive after the click).
async function reportUntil(want, what) {
  let total;
  for (let i = 0; i < 100; i++) {
    total = await settled();
    if (want(total)) return total;
    await new Promise((ok) => setTimeout(ok, 100));
  }
  assert.fail(`${what}: ${JSON.stringify(total)}`);
}

/// Types a request on /portal/new until the article is suggested; returns its link.
async function typeUntilSuggested(page, email) {
  await page.goto(app.base + '/portal/new');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Subject').pressSequentially('Kettle descaling light', { delay: 20 });
  await page.getByLabel('Message').pressSequentially(`The descaling light ${stamp} stays on`, { delay: 10 });
  const region = page.locator('#kb-suggestions');
  assert.equal(await region.getAttribute('aria-live'), 'polite', 'suggestions are announced');
  const link = region.getByRole('link', { name: article.title });
  await link.waitFor({ timeout: 10000 });
  return link;
}

before(async () => {
  sink = await smtpSink();
  app = await startApp({
    name: 'deflection', tickets: 10, customers: 5,
    env: { RAPPORT_SMTP_RELAY: `smtp://127.0.0.1:${sink.port}` },
  });
  // The report is the supervisors': a token for one of the demo's supervisors.
  const users = await app.api('GET', '/api/v1/users');
  const maya = users.find((u) => u.email === 'maya.okafor@example.com');
  supervisor = (await app.api('POST', '/api/v1/tokens', { user_id: maya.id, name: 'deflection test', expires_in_days: 1 })).token;
  article = await app.api('POST', '/api/v1/kb/articles', {
    title: `Turning off the descaling light ${stamp}`,
    body: `The descaling light ${stamp} stays on until you hold the descale button for five seconds.\n\n## Reset it\n\nHold **descale** for five seconds.`,
    status: 'published',
    visibility: 'public',
  });
  // The index follows the article within moments.
  for (let i = 0; i < 100; i++) {
    const r = await fetch(`${app.base}/api/v1/kb/suggest?q=${encodeURIComponent(`descaling light ${stamp}`)}`);
    if ((await r.json()).hits.some((h) => h.id === article.id)) break;
    await new Promise((ok) => setTimeout(ok, 100));
  }
  if ((await app.api('GET', '/api/v1/mailboxes')).length === 0) {
    await app.api('POST', '/api/v1/mailboxes', { address: 'help@deflection.example', name: 'Help', acknowledge: false });
  }
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  app?.stop();
  sink?.close();
});

test('a signed-in customer reads a suggestion, leaves, and is counted as deflected', async () => {
  const email = `reader${stamp}@example.com`;
  await app.api('POST', '/api/v1/tickets', { subject: 'Hello', body: 'First contact', customer: { email, name: 'Rae Reader' } });
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  await customerSignIn(app, page, sink, email);
  const before = await settled();

  const link = await typeUntilSuggested(page, email);
  await assertAccessible(page, 'the new-request form with suggestions shown');
  // The article opens in a new tab; the form stays.
  const opened = page.waitForResponse((r) => r.url().includes('/opened') && r.status() === 204);
  const [tab] = await Promise.all([context.waitForEvent('page'), link.click()]);
  await opened;
  await tab.waitForLoadState();
  assert.match(tab.url(), new RegExp(`/help/articles/${article.slug}`));
  await tab.getByRole('heading', { level: 1, name: article.title }).waitFor();
  // Nothing counts before the 30 minutes are over…
  const now = await app.api('GET', '/api/v1/kb/reports/deflection', null, supervisor);
  assert.equal(now.total.deflected, before.deflected, 'still pending');
  // …and the customer leaves without submitting.
  await context.close();
  const total = await reportUntil((t) => t.deflected === before.deflected + 1, 'one deflection');
  assert.equal(total.submitted, before.submitted);
});

test('a visitor who submits anyway shows the agent what they read', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const before = await settled();
  const link = await typeUntilSuggested(page, `writer${stamp}@example.com`);
  const opened = page.waitForResponse((r) => r.url().includes('/opened') && r.status() === 204);
  const [tab] = await Promise.all([context.waitForEvent('page'), link.click()]);
  await opened;
  await tab.close();
  await page.getByRole('button', { name: 'Submit' }).click();
  const status = page.getByRole('status');
  await status.getByText(/we have your request #\d+/).waitFor();
  const id = Number((await status.getByRole('link').getAttribute('href')).match(/requests\/(\d+)/)[1]);
  await context.close();

  const total = await reportUntil((t) => t.submitted === before.submitted + 1, 'one submitted attempt');
  assert.equal(total.deflected, before.deflected, 'submitting is no deflection');
  const agentContext = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const agent = await agentContext.newPage();
  await app.signIn(agent, 'admin@example.com');
  await agent.goto(`${app.base}/tickets/${id}`);
  const seen = agent.getByRole('complementary', { name: 'Before writing, the customer read:' });
  await seen.getByRole('link', { name: article.title }).waitFor();
  // The article they opened comes first, without "(suggested, not opened)".
  const first = seen.getByRole('listitem').first();
  assert.equal(await first.getByRole('link').textContent(), article.title);
  assert.doesNotMatch(await first.textContent(), /not opened/);
  await agentContext.close();
});
