// Drives Debian's Chromium (playwright-core) through the gateway's login: Keycloak's login form, then the
// gateway's consent page. Keycloak runs with the stack's private CA, which this throwaway browser profile
// is told to accept (ignoreHTTPSErrors); nothing else about TLS is relaxed.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { repoRoot } from '../stack/env.js';

export const artifactsDir = path.join(repoRoot, 'test-artifacts');

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update'],
  });
}

export interface BrowserLoginOptions {
  username: string;
  password: string;
  /** What to do on the consent page; `expect-none` when consent is remembered. */
  consent: 'approve' | 'deny' | 'expect-none';
  /** Saves a full-page screenshot of the consent page here (under test-artifacts/). */
  consentScreenshot?: string;
}

export interface BrowserLoginResult {
  consentShown: boolean;
  consentText?: string;
  consentCsp?: string;
}

async function fillKeycloak(page: Page, username: string, password: string): Promise<void> {
  await page.waitForSelector('#username', { timeout: 30_000 });
  await page.fill('#username', username);
  await page.fill('#password', password);
  await Promise.all([page.waitForLoadState('domcontentloaded'), page.click('#kc-login')]);
}

/**
 * Opens `authorizationUrl` in a fresh browser context, signs in at Keycloak and answers the consent page.
 * The caller's loopback redirect server receives the result.
 */
export async function browserLogin(browser: Browser, authorizationUrl: URL | string, opts: BrowserLoginOptions): Promise<BrowserLoginResult> {
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  try {
    const page = await context.newPage();
    let consentCsp: string | undefined;
    page.on('response', (r) => {
      if (new URL(r.url()).pathname.endsWith('/consent') && r.request().method() === 'GET') consentCsp = r.headers()['content-security-policy'];
    });
    await page.goto(String(authorizationUrl), { waitUntil: 'domcontentloaded' });
    await fillKeycloak(page, opts.username, opts.password);
    if (opts.consent === 'expect-none') {
      await page.waitForURL((u) => u.pathname.endsWith('/callback') && u.hostname === '127.0.0.1' && !u.pathname.includes('/orgs/'), { timeout: 30_000 }).catch(() => undefined);
      return { consentShown: page.url().includes('/consent') };
    }
    await page.waitForURL((u) => u.pathname.endsWith('/consent'), { timeout: 30_000 });
    const consentText = await page.locator('main').innerText();
    if (opts.consentScreenshot) {
      mkdirSync(artifactsDir, { recursive: true });
      await page.screenshot({ path: path.join(artifactsDir, opts.consentScreenshot), fullPage: true });
    }
    const button = page.getByRole('button', { name: opts.consent === 'approve' ? 'Allow' : 'Deny' });
    await Promise.all([page.waitForURL((u) => !u.pathname.endsWith('/consent'), { timeout: 30_000 }), button.click()]);
    return { consentShown: true, consentText, consentCsp };
  } finally {
    await context.close();
  }
}
