// The agent workspace and the customer portal in a real browser: Debian's chromium
// driven by playwright-core, against the real `rapport` binary on a scratch database.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startApp, launchBrowser, root, assertAccessible } from './harness.mjs';

const shots = join(root, 'docs/screenshots');

let app, base, browser;
const api = (...a) => app.api(...a);
const signIn = (page, email) => app.signIn(page, email);

before(async () => {
  app = await startApp({ name: 'browser', tickets: 60, customers: 25 });
  base = app.base;
  browser = await launchBrowser();
  mkdirSync(shots, { recursive: true });
});

after(async () => {
  await browser?.close();
  app?.stop();
});

test('an agent signs in and works a ticket end to end', async () => {
  const subject = `Blender lid cracked ${Date.now()}`;
  const t = await api('POST', '/api/v1/tickets', {
    subject, body: 'The lid cracked on the second use.', customer: { email: 'lid@example.com', name: 'Lia Ortiz' },
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await signIn(page, 'admin@example.com');
  await page.goto(base + '/inbox?view=unassigned');
  await page.getByRole('link', { name: subject }).click();
  await page.waitForURL(new RegExp(`/tickets/${t.id}$`));
  // The customer's first message and the sidebar with their history.
  await page.getByText('The lid cracked on the second use.').waitFor();
  await page.getByRole('complementary', { name: 'Ticket details' }).getByText('lid@example.com').waitFor();

  await page.getByLabel('Reply').fill('Sorry about that, Lia — a new lid is on its way.');
  await page.getByRole('button', { name: 'Send' }).click();
  await page.getByRole('article', { name: /reply from/ }).getByText('a new lid is on its way').waitFor();

  await page.getByLabel('Internal note').fill('Sent replacement lid from stock.');
  await page.getByRole('button', { name: 'Add note' }).click();
  await page.getByRole('article', { name: /internal note from/ }).waitFor();

  await page.getByRole('button', { name: 'Assign to me' }).click();
  await page.waitForURL(new RegExp(`/tickets/${t.id}$`));
  await page.getByLabel('Status', { exact: true }).selectOption('solved');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.waitForURL(new RegExp(`/tickets/${t.id}$`));

  const after = await api('GET', `/api/v1/tickets/${t.id}`);
  assert.equal(after.status, 'solved');
  assert.ok(after.assignee_id, 'assigned');
  assert.equal(after.message_count, 3);
  await page.screenshot({ path: join(shots, 'ticket.png'), fullPage: true });
  await page.close();
});

test('a ticket created through the API appears live in an open inbox', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await signIn(page, 'admin@example.com');
  await page.goto(base + '/inbox?view=open');
  await page.getByRole('heading', { name: 'All open' }).waitFor();
  const subject = `Live arrival ${Date.now()}`;
  await api('POST', '/api/v1/tickets', { subject, body: 'Hello from the API', customer: { email: 'live@example.com' } });
  await page.getByRole('link', { name: subject }).waitFor({ timeout: 10000 });
  await page.screenshot({ path: join(shots, 'inbox.png') });
  await page.close();
});

test('a portal request reaches the inbox', async () => {
  const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
  await page.goto(base + '/portal/new');
  const subject = `Portal question ${Date.now()}`;
  await page.getByLabel('Email').fill('portal.customer@example.com');
  await page.getByLabel('Subject').fill(subject);
  await page.getByLabel('Message').fill('Can I change the colour of my order?');
  await page.screenshot({ path: join(shots, 'portal.png'), fullPage: true });
  await page.getByRole('button', { name: 'Submit' }).click();
  const status = page.getByRole('status');
  await status.getByText(/we have your request #\d+/).waitFor();
  const privateLink = await status.getByRole('link').getAttribute('href');
  assert.match(privateLink, /^\/portal\/requests\/\d+\?key=[0-9a-f]{64}$/);
  // A tampered link shows nothing.
  const bad = await fetch(base + privateLink.replace(/key=(.)/, (_, c) => `key=${c === '0' ? '1' : '0'}`));
  assert.equal(bad.status, 404);
  // The customer answers on the private page.
  await page.getByLabel('Your reply').fill('Blue would be great.');
  await page.getByRole('button', { name: 'Send reply' }).click();
  await page.getByText('Blue would be great.').waitFor();

  const agent = await browser.newPage();
  await signIn(agent, 'admin@example.com');
  await agent.goto(base + '/inbox?view=channel-web');
  await agent.getByRole('link', { name: subject }).click();
  await agent.getByText('Blue would be great.').waitFor();
  await page.close();
  await agent.close();
});

test('an agent cannot open tickets of a team they are not in', async () => {
  const teams = await api('GET', '/api/v1/teams');
  const technical = teams.find((t) => t.name === 'Technical');
  const t = await api('POST', '/api/v1/tickets', {
    subject: 'Firmware secret', body: 'Only for the technical team', customer: { email: 'fw@example.com' }, team_id: technical.id,
  });
  const page = await browser.newPage();
  await signIn(page, 'sara.lind@example.com'); // Billing
  const r = await page.goto(base + `/tickets/${t.id}`);
  assert.equal(r.status(), 403);
  await page.getByRole('heading', { name: 'Not allowed' }).waitFor();
  await page.goto(base + '/inbox?view=open');
  assert.equal(await page.getByRole('link', { name: 'Firmware secret' }).count(), 0);
  await page.close();
});

test('wrong passwords are refused and every page sends a strict CSP', async () => {
  const page = await browser.newPage();
  const r = await page.goto(base + '/login');
  assert.match(r.headers()['content-security-policy'], /script-src 'self'/);
  await page.getByLabel('Email').fill('admin@example.com');
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').getByText('Wrong email or password.').waitFor();
  await page.close();
});

test('admins manage agents, teams and categories; agents may not', async () => {
  const page = await browser.newPage();
  await signIn(page, 'admin@example.com');
  await page.goto(base + '/admin');
  const stamp = Date.now();
  await page.getByLabel('New team name').fill(`Returns ${stamp}`);
  await page.getByRole('button', { name: 'Add team' }).click();
  await page.getByRole('status').getByText(`Added team Returns ${stamp}`).waitFor();
  await page.getByLabel('New category name').fill('Warranty claims');
  await page.getByLabel('Slug').fill(`warranty-${stamp}`);
  await page.getByRole('button', { name: 'Add category' }).click();
  await page.getByRole('status').getByText('Added category Warranty claims').waitFor();
  await page.getByLabel('Agent email').fill(`new.agent.${stamp}@example.com`);
  await page.getByLabel('Agent name').fill('Nova Agent');
  await page.getByLabel('Initial password').fill('a good long password');
  await page.getByRole('button', { name: 'Add agent' }).click();
  await page.getByRole('status').getByText('Added Nova Agent').waitFor();
  await page.getByLabel('Mailbox address').fill(`help.${stamp}@example.com`);
  await page.getByLabel('Mailbox name').fill('Help desk');
  await page.getByRole('button', { name: 'Add mailbox' }).click();
  await page.getByRole('status').getByText(`Added mailbox help.${stamp}@example.com`).waitFor();
  const boxes = await api('GET', '/api/v1/mailboxes');
  assert.ok(boxes.some((b) => b.address === `help.${stamp}@example.com`));
  const cats = await api('GET', '/api/v1/categories');
  assert.ok(cats.some((c) => c.slug === `warranty-${stamp}`));
  await page.close();

  const agent = await browser.newPage();
  await signIn(agent, 'leo.martin@example.com');
  const r = await agent.goto(base + '/admin');
  assert.equal(r.status(), 403);
  await agent.close();
});

test('two agents on one ticket see each other; bulk actions and merge work', async () => {
  const stamp = Date.now();
  const a = await api('POST', '/api/v1/tickets', { subject: `Duplicate A ${stamp}`, body: 'First copy', customer: { email: 'dup@example.com' } });
  const b = await api('POST', '/api/v1/tickets', { subject: `Duplicate B ${stamp}`, body: 'Second copy', customer: { email: 'dup@example.com' } });

  // Collision detection: Maya (supervisor) opens the ticket and types; Riley sees it.
  const riley = await browser.newPage();
  await signIn(riley, 'admin@example.com');
  await riley.goto(base + `/tickets/${a.id}`);
  const maya = await browser.newPage();
  await signIn(maya, 'maya.okafor@example.com');
  await maya.goto(base + `/tickets/${a.id}`);
  await maya.getByLabel('Reply').fill('Typing something');
  await riley.getByText(/Maya Okafor is (typing a reply|viewing this ticket)/).waitFor({ timeout: 15000 });
  await maya.close();

  // Bulk: tag both and take them.
  await riley.goto(base + '/inbox?view=unassigned&sort=created');
  await riley.getByLabel(`Select #${a.number}`).check();
  await riley.getByLabel(`Select #${b.number}`).check();
  await riley.getByLabel('With the selected tickets').selectOption('tag');
  await riley.getByLabel('Tag to add').fill('duplicate');
  await riley.getByRole('button', { name: 'Apply' }).click();
  await riley.waitForURL(/\/inbox/);
  for (const t of [a, b]) {
    const now = await api('GET', `/api/v1/tickets/${t.id}`);
    assert.deepEqual(now.tags, ['duplicate']);
  }
  // Bulk assign to a colleague.
  const users = await api('GET', '/api/v1/users');
  const mayaId = users.find((u) => u.email === 'maya.okafor@example.com').id;
  await riley.goto(base + '/inbox?view=open&sort=created');
  await riley.getByLabel(`Select #${a.number}`).check();
  await riley.getByLabel(`Select #${b.number}`).check();
  await riley.getByLabel('With the selected tickets').selectOption({ label: 'assign to Maya Okafor' });
  await riley.getByRole('button', { name: 'Apply' }).click();
  await riley.waitForURL(/\/inbox/);
  for (const t of [a, b]) {
    assert.equal((await api('GET', `/api/v1/tickets/${t.id}`)).assignee_id, mayaId);
  }

  // Merge B into A from B's page, with a file on a reply first.
  await riley.goto(base + `/tickets/${b.id}`);
  await riley.getByLabel('Reply').fill('Here is the label.');
  await riley.getByLabel('Attach a file').setInputFiles({ name: 'label.txt', mimeType: 'text/plain', buffer: Buffer.from('RETURN LABEL') });
  await riley.getByRole('button', { name: 'Send' }).click();
  await riley.getByRole('link', { name: 'label.txt' }).waitFor();
  await riley.getByLabel('Merge into ticket number').fill(String(a.number));
  await riley.getByRole('button', { name: 'Merge' }).click();
  await riley.waitForURL(new RegExp(`/tickets/${a.id}$`));
  await riley.getByText('Second copy').waitFor();
  const merged = await api('GET', `/api/v1/tickets/${b.id}`);
  assert.equal(merged.merged_into_id, a.id);
  await riley.close();
});

test('macros, time tracking and splitting from the ticket page', async () => {
  const stamp = Date.now();
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await signIn(page, 'admin@example.com');
  await page.goto(base + '/admin');
  await page.getByLabel('Macro name').fill(`Thanks and solve ${stamp}`);
  await page.getByLabel('Reply text').fill('Glad we could help!');
  await page.getByLabel('Then set status').selectOption('solved');
  await page.getByLabel('Add tags').fill('happy');
  await page.getByRole('button', { name: 'Add macro' }).click();
  await page.getByRole('status').getByText(`Added macro Thanks and solve ${stamp}`).waitFor();

  const t = await api('POST', '/api/v1/tickets', { subject: `Two things ${stamp}`, body: 'First thing', customer: { email: 'two@example.com' } });
  await page.goto(base + `/tickets/${t.id}`);
  await page.getByLabel('Log time (minutes)').fill('25');
  await page.getByRole('button', { name: 'Log time' }).click();
  await page.getByText('Riley Admin: 0 h 25 min').waitFor();

  await page.getByLabel('Macro').selectOption({ label: `Thanks and solve ${stamp}` });
  await page.getByRole('button', { name: 'Apply macro' }).click();
  await page.getByText('Glad we could help!').waitFor();
  const solved = await api('GET', `/api/v1/tickets/${t.id}`);
  assert.equal(solved.status, 'solved');
  assert.deepEqual(solved.tags, ['happy']);

  // The customer writes about something else; it becomes its own ticket.
  const t2 = await api('POST', '/api/v1/tickets', { subject: `Mixed ${stamp}`, body: 'Question one', customer: { email: 'mixed@example.com' } });
  await api('POST', `/api/v1/tickets/${t2.id}/messages`, { body: 'Answer one' });
  await page.goto(base + `/tickets/${t2.id}`);
  await page.getByRole('button', { name: 'Split into a new ticket' }).first().click();
  await page.getByRole('heading', { name: new RegExp(`split from #${t2.number}`) }).waitFor();
  await page.getByText('Question one').waitFor();
  const source = await api('GET', `/api/v1/tickets/${t2.id}`);
  assert.equal(source.message_count, 1);
  await page.close();
});

test('agents filter the inbox and save the view; admins define custom fields', async () => {
  const stamp = Date.now();
  await api('POST', '/api/v1/tickets', { subject: `SMS about ${stamp}`, body: 'Text message', customer: { email: 'sms@example.com' }, channel: 'sms', priority: 'urgent' });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await signIn(page, 'admin@example.com');
  await page.goto(base + '/inbox');
  await page.getByText('Filter tickets').click();
  await page.getByLabel('Filter channel').selectOption('sms');
  await page.getByLabel('Filter priority').selectOption('urgent');
  await page.getByRole('button', { name: 'Apply filter' }).click();
  await page.getByRole('link', { name: `SMS about ${stamp}` }).waitFor();
  await page.getByLabel('Save this view as').fill(`Urgent SMS ${stamp}`);
  await page.getByRole('button', { name: 'Save view' }).click();
  await page.getByRole('navigation', { name: 'Views' }).getByRole('link', { name: new RegExp(`Urgent SMS ${stamp}`) }).waitFor();
  await page.getByRole('link', { name: `SMS about ${stamp}` }).waitFor();

  await page.goto(base + '/admin');
  await page.getByLabel('Field label').fill('Order number');
  await page.getByLabel('Field key').fill(`order_${stamp}`);
  await page.getByRole('button', { name: 'Add field' }).click();
  await page.getByRole('status').getByText('Added field Order number').waitFor();
  const t = await api('POST', '/api/v1/tickets', { subject: `Fields ${stamp}`, body: 'x', customer: { email: 'f@example.com' } });
  await page.goto(base + `/tickets/${t.id}`);
  await page.getByLabel('Order number').fill('NW-12345');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.waitForURL(new RegExp(`/tickets/${t.id}$`));
  const after = await api('GET', `/api/v1/tickets/${t.id}`);
  assert.equal(after.custom_fields[`order_${stamp}`], 'NW-12345');
  await page.close();
});

test('an open ticket shows new messages live; keyboard shortcuts work', async () => {
  const t = await api('POST', '/api/v1/tickets', { subject: `Live thread ${Date.now()}`, body: 'Hello', customer: { email: 'lt@example.com' } });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await signIn(page, 'admin@example.com');
  await page.goto(base + `/tickets/${t.id}`);
  await page.getByText('Hello').first().waitFor();
  await api('POST', `/api/v1/tickets/${t.id}/messages`, { body: 'A colleague answered meanwhile', internal: true });
  await page.getByText('A colleague answered meanwhile').waitFor({ timeout: 10000 });

  // Shortcuts: r focuses the reply, / the search box, ? opens the help.
  await page.locator('body').click({ position: { x: 5, y: 300 } });
  await page.keyboard.press('r');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'reply');
  await page.keyboard.press('Escape');
  await page.keyboard.press('/');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'global-search');
  await page.keyboard.press('Escape');
  await page.keyboard.press('?');
  await page.getByRole('dialog', { name: 'Keyboard shortcuts' }).waitFor();
  // j and Enter open the first ticket of a list.
  await page.goto(base + '/inbox?view=open');
  await page.keyboard.press('j');
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/tickets\/\d+$/);
  await page.close();
});

test('a supervisor reads the reports: charts with their tables, filters, CSV, themes', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  await signIn(page, 'admin@example.com');
  await page.getByRole('link', { name: 'Reports', exact: true }).click();
  await page.getByRole('heading', { name: 'Reports', level: 1 }).waitFor();
  // Four charts, each named for what it shows, drawn without script.
  for (const name of ['Tickets created (bars) and solved (line) per day', 'Tickets created by channel',
    'Tickets created by category', 'Unsolved tickets by age']) {
    assert.ok(await page.getByRole('img', { name }).isVisible(), name);
  }
  // The demo's tickets are there, and so are its surveys' answers.
  const created = Number((await page.locator('.card', { hasText: 'Tickets created' }).locator('strong').textContent()).trim());
  assert.ok(created > 0, `created ${created}`);
  assert.match(await page.locator('.card', { hasText: 'CSAT' }).textContent(), /\d+ answers/);
  await page.getByText('Data table').click();
  const days = await page.getByRole('table', { name: 'Tickets created and solved per day' }).locator('tbody tr').count();
  assert.equal(days, 30);
  await assertAccessible(page, 'the reports');
  // A filter narrows it; the exports keep the filter.
  const team = await page.getByLabel('Team', { exact: true }).locator('option').nth(1).getAttribute('value');
  await page.getByLabel('Team', { exact: true }).selectOption(team);
  await page.getByRole('button', { name: 'Show' }).click();
  await page.waitForURL(new RegExp(`team_id=${team}`));
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.locator('a[href*="table=teams"]').click(),
  ]);
  const csv = await (await download.createReadStream()).toArray();
  const lines = Buffer.concat(csv).toString('utf8').trim().split('\n');
  assert.match(lines[0], /^id,name,solved,csat_percent/);
  assert.equal(lines.length, 2, 'the one team: ' + lines.join(' | '));
  assert.ok(lines[1].startsWith(`${team},`), lines[1]);
  await page.screenshot({ path: join(shots, 'reports.png'), fullPage: false });
  await page.getByRole('link', { name: 'themes of what customers wrote' }).click();
  await page.getByRole('heading', { name: 'What customers wrote about' }).waitFor();
  await assertAccessible(page, 'the themes');
  await page.close();
});
