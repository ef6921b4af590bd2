// The "Log in and search orders" example (scripts/examples/login-and-search-orders.json) written by hand,
// once for Playwright and once for puppeteer-core: the baselines our engine is compared with. Same steps,
// same waits, same checks; no measurement or capture.
import assert from 'node:assert/strict';
import type { Page as PlaywrightPage } from 'playwright-core';
import type { Page as PuppeteerPage } from 'puppeteer-core';

export const benchCustomer = 'Globex';

export async function playwrightTransaction(page: PlaywrightPage, baseUrl: string, password: string): Promise<void> {
  await page.goto(`${baseUrl}/`, { waitUntil: 'load' });
  assert.match(await page.title(), /Sign in/);
  await page.locator('[data-testid="username"]').fill('demo');
  await page.locator('#password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#welcome').filter({ hasText: 'Welcome back, demo' }).waitFor();
  await page.getByRole('link', { name: 'Orders', exact: true }).click();
  const search = page.getByRole('searchbox', { name: 'Search orders' });
  await search.fill(benchCustomer);
  await search.press('Enter');
  await page.waitForURL((url) => url.search.includes(`q=${benchCustomer}`));
  await page.locator('[data-testid=order-row]').first().waitFor();
  const orderId = (await page.locator('[data-testid=order-row] .order-id').first().innerText()).trim();
  await page.getByText(orderId, { exact: true }).click();
  await page.locator('h1').filter({ hasText: `Order ${orderId}` }).waitFor();
  await page.locator('#order-customer').filter({ hasText: benchCustomer }).waitFor();
  await page.getByText('Sign out').click();
  await page.waitForURL((url) => url.pathname.includes('/login'));
}

export async function puppeteerTransaction(page: PuppeteerPage, baseUrl: string, password: string): Promise<void> {
  await page.goto(`${baseUrl}/`, { waitUntil: 'load' });
  assert.match(await page.title(), /Sign in/);
  await page.locator('[data-testid="username"]').fill('demo');
  await page.locator('#password').fill(password);
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.locator('button[type=submit]').click()]);
  await page.waitForFunction(() => document.querySelector('#welcome')?.textContent?.includes('Welcome back, demo') === true);
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.locator('::-p-aria(Orders[role="link"])').click()]);
  await page.locator('input[type=search]').fill(benchCustomer);
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.keyboard.press('Enter')]);
  assert.ok(page.url().includes(`q=${benchCustomer}`));
  await page.waitForSelector('[data-testid=order-row]', { visible: true });
  const orderId = await page.$eval('[data-testid=order-row] .order-id', (el) => (el as HTMLElement).innerText.trim());
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.locator(`::-p-text(${orderId})`).click()]);
  await page.waitForFunction((id) => document.querySelector('h1')?.textContent?.includes(`Order ${id}`) === true, {}, orderId);
  await page.waitForFunction((c) => document.querySelector('#order-customer')?.textContent?.includes(c) === true, {}, benchCustomer);
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.locator('::-p-text(Sign out)').click()]);
  assert.ok(page.url().includes('/login'));
}
