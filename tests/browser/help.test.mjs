// The public help center in a real browser: Debian's chromium driven by playwright-core,
// against the real `rapport` binary on a scratch database. axe-core (the accessibility
// checker nobody here wrote) must find no serious or critical violation on any public page
// type; a reader finds an article through search despite a typo and votes "helpful".
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startApp, launchBrowser, assertAccessible } from './harness.mjs';

let app, base, browser, article;
const api = (...a) => app.api(...a);

before(async () => {
  app = await startApp({ name: 'help', tickets: 10, customers: 5 });
  base = app.base;
  const stamp = Date.now();
  await api('POST', '/api/v1/kb/categories', { slug: `accounts-${stamp}`, name: 'Accounts and sign-in', description: 'Passwords, sign-in and your profile' });
  article = await api('POST', '/api/v1/kb/articles', {
    title: `How do I reset my password ${stamp}?`,
    body: 'Forgot your password? You can set a new one in a minute.\n\n'
      + '## Ask for a reset link\n\nOpen the sign-in page and choose **Forgot password**.\n\n'
      + '## Choose a new password\n\nFollow the link in the email and type a new password twice.\n\n'
      + '| Step | Time |\n|---|---|\n| Email arrives | 1 minute |\n',
    status: 'published',
    visibility: 'public',
    category: `accounts-${stamp}`,
    section: 'Signing in',
    tags: ['password', 'login'],
  });
  await api('PATCH', `/api/v1/kb/articles/${article.id}`, {
    locale: 'de',
    title: `Wie setze ich mein Passwort zurück ${stamp}?`,
    body: 'Passwort vergessen?\n\n## Link anfordern\n\nÖffnen Sie die Anmeldeseite.',
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  app?.stop();
});

test('every public page type passes axe-core, on a desktop and on a phone', async () => {
  const pages = [
    ['/help', 'the help center'],
    [`/help/categories/${article.category.slug}`, 'a category'],
    [`/help/articles/${article.slug}`, 'an article'],
    [`/help/articles/${article.slug}?lang=de`, 'an article in German'],
    ['/help/search?q=password', 'search results'],
    ['/help/search?q=zzzqqqxxx', 'a search without results'],
    ['/portal/new', 'the new-request form'],
  ];
  for (const viewport of [{ width: 1280, height: 900 }, { width: 390, height: 844 }]) {
    const context = await browser.newContext({ viewport });
    const page = await context.newPage();
    for (const [path, what] of pages) {
      const resp = await page.goto(base + path);
      assert.equal(resp.status(), 200, `${path}`);
      await assertAccessible(page, `${what} (${viewport.width}px)`);
    }
    // Nothing wider than a phone's screen on the article page.
    if (viewport.width < 500) {
      await page.goto(base + `/help/articles/${article.slug}`);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 1, `the article page scrolls sideways by ${overflow}px on a phone`);
    }
    await context.close();
  }
});

test('a reader finds an article despite a typo, reads it and votes helpful', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(base + '/help');
  // The skip link is the first thing the keyboard reaches.
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.textContent.trim()), 'Skip to content');
  await page.getByRole('searchbox', { name: 'Search the help center' }).fill('pasword reset');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.waitForURL(/\/help\/search\?q=/);
  const hit = page.getByRole('link', { name: article.title });
  await hit.waitFor();
  assert.ok(await page.locator('.results mark').count() > 0, 'the snippet highlights the words');
  await hit.click();
  await page.waitForURL(new RegExp(`/help/articles/${article.slug}`));
  assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), article.title);
  // The table of contents jumps to a section.
  await page.getByRole('link', { name: 'Choose a new password' }).click();
  assert.match(page.url(), /#choose-a-new-password$/);
  await page.getByRole('button', { name: 'Yes' }).click();
  await page.getByText('Thanks for your feedback').waitFor();
  await page.getByLabel(/Anything we could add/).fill('Clear and short.');
  await page.getByRole('button', { name: 'Send comment' }).click();
  await page.getByText('Thanks for your feedback').waitFor();
  assert.equal(await page.getByLabel(/Anything we could add/).inputValue(), 'Clear and short.');
  const counted = await api('GET', `/api/v1/kb/articles/${article.id}`);
  assert.equal(counted.helpful_yes, 1);
  assert.equal(counted.helpful_no, 0);
  await context.close();
});
