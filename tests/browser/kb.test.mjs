// The knowledge base in the agent workspace, in a real browser: write an article with the
// live preview, publish it, link it into a reply from the ticket page, and manage the
// categories (axe-core, the accessibility checker nobody here wrote, checks that page).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startApp, launchBrowser, assertAccessible } from './harness.mjs';

let app, base, browser;
const api = (...a) => app.api(...a);
const signIn = (page, email) => app.signIn(page, email);

before(async () => {
  app = await startApp({ name: 'kb-browser', tickets: 20, customers: 10 });
  base = app.base;
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  app?.stop();
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
