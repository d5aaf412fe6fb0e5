import { after, before } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { ARTIFACTS, launchBrowser } from './browser.js';
import { quickRetries, useLockstep } from './in-process.js';
import { TEST_TOKEN, type ApiClient } from './lockstep.js';
import type { TestReceiver } from './receiver.js';

export interface Dashboard {
  api: ApiClient;
  receiver: TestReceiver;
  page: Page;
  /** Page errors and failed requests so far: a test file ends by finding none. */
  errors: string[];
  /** Opens `#/<hash>` of the dashboard. */
  open: (hash: string) => Promise<unknown>;
  /** Signs in through the form with `token` (the API token unless given). */
  signIn: (token?: string) => Promise<void>;
  reload: () => Promise<void>;
  screenshot: (name: string) => Promise<Buffer>;
}

/**
 * For one describe's tests: an in-process Lockstep (useLockstep; retries 50 ms apart, private
 * addresses allowed) and its dashboard in a real browser, opened before them and closed after.
 */
export function useDashboard(): () => Dashboard {
  const context = useLockstep('all', quickRetries(3));
  let browser: Browser | undefined;
  let dashboard: Dashboard | undefined;
  before(async () => {
    const { api, receiver } = context();
    browser = await launchBrowser();
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const errors: string[] = [];
    // A reload cancels the old page's fetches still in flight (net::ERR_ABORTED): the test's doing, not the dashboard's.
    let reloading = false;
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('requestfailed', (request) => {
      const reason = request.failure()?.errorText ?? 'no reason';
      if (!(reloading && reason === 'net::ERR_ABORTED')) errors.push(`request failed: ${request.method()} ${request.url()} (${reason})`);
    });
    dashboard = {
      api,
      receiver,
      page,
      errors,
      open: (hash) => page.goto(`${api.url}/ui/#/${hash}`),
      signIn: async (token = TEST_TOKEN) => {
        await page.goto(`${api.url}/ui`);
        await page.fill('input[name=token]', token);
        await page.click('form.sign-in button[type=submit]');
      },
      reload: async () => {
        reloading = true;
        await page.reload().finally(() => (reloading = false));
      },
      screenshot: (name) => page.screenshot({ path: `${ARTIFACTS}dashboard-${name}.png`, fullPage: true }),
    };
  });
  after(async () => {
    await browser?.close();
  });
  return () => {
    if (!dashboard) throw new Error('useDashboard: the dashboard opens in a before hook');
    return dashboard;
  };
}
