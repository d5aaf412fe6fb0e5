import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { ARTIFACTS, browserMissing, launchBrowser } from '../support/browser.js';
import type { PortalLink } from '../../src/shapes/tenants.js';
import type { Token } from '../../src/shapes/tokens.js';
import { quickRetries, useLockstep } from '../support/in-process.js';
import { TEST_TOKEN, type ApiClient } from '../support/lockstep.js';
import { waitFor } from '../support/ports.js';
import type { TestReceiver } from '../support/receiver.js';

const missing = browserMissing('portal');

describe('consumer portal and tenants page in a real browser', { skip: missing }, () => {
  const context = useLockstep('all', quickRetries(2));
  let api: ApiClient;
  let receiver: TestReceiver;
  let browser: Browser;
  let page: Page;
  let receiverId = '';
  const pageErrors: string[] = [];

  before(async () => {
    ({ api, receiver } = context());
    for (const id of ['portal-co', 'someone-else']) assert.equal((await api.request('POST', '/v1/tenants', { id, name: `${id} Ltd` })).status, 201);
    await api.createReceiver({ url: receiver.url('someone-else'), tenantId: 'someone-else', description: 'not yours' });
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.on('pageerror', (error) => pageErrors.push(error.message));
  });
  after(async () => {
    await browser?.close();
  });

  const link = async (tenant: string, expiresInS: number): Promise<string> => {
    const { status, body } = await api.request<PortalLink>('POST', `/v1/tenants/${tenant}/portal`, { expiresInS });
    assert.equal(status, 201);
    return body.url;
  };
  const screenshot = (name: string): Promise<Buffer> => page.screenshot({ path: `${ARTIFACTS}portal-${name}.png`, fullPage: true });

  test("opening the link shows the tenant's endpoints only, and takes the token out of the address bar", async () => {
    const url = await link('portal-co', 600);
    assert.match(url, new RegExp(`^${api.url}/ui/portal#token=lst_[A-Za-z0-9_-]+&tenant=portal-co$`));
    await page.goto(url);
    await page.getByRole('heading', { name: 'Endpoints' }).waitFor();
    await page.getByText('portal-co Ltd').waitFor();
    assert.ok(!page.url().includes('token='), `the address bar keeps no token: ${page.url()}`);
    await page.getByText('No endpoint yet').waitFor();
    assert.ok(!(await page.content()).includes('not yours'));
  });

  test('adds an endpoint, sends it a test event and watches it arrive', async () => {
    await page.fill('form.receiver-form input[name=url]', receiver.url('portal-hook'));
    await page.fill('form.receiver-form input[name=eventTypes]', 'order.*');
    await page.fill('form.receiver-form input[name=description]', 'our order service');
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    await page.waitForURL(/#\/receivers\/rcv_/);
    receiverId = decodeURIComponent(page.url().split('/').pop() ?? '');
    assert.equal((await api.request<{ tenantId?: string }>('GET', `/v1/receivers/${receiverId}`)).body.tenantId, 'portal-co');
    await page.getByRole('button', { name: 'Send test event' }).click();
    await page.waitForURL(/#\/messages\/msg_/);
    await page.locator('article.delivery h2 .pill', { hasText: 'delivered' }).waitFor({ timeout: 10_000 });
    assert.equal((JSON.parse(receiver.for('portal-hook')[0]?.body ?? '{}') as { type?: string }).type, 'lockstep.test');
    await screenshot('test-event');
  });

  test('disables and enables the endpoint, edits it and its flow control, reveals its secret', async () => {
    await page.goto(`${api.url}/ui/portal#/receivers/${receiverId}`);
    await page.getByRole('button', { name: 'Disable' }).click();
    await page.getByRole('button', { name: 'Enable' }).first().waitFor();
    assert.equal((await api.request<{ enabled: boolean }>('GET', `/v1/receivers/${receiverId}`)).body.enabled, false);
    await page.getByRole('button', { name: 'Enable' }).first().click();
    await page.getByRole('button', { name: 'Disable' }).waitFor();
    await page.getByText('Edit endpoint').click();
    await page.locator('.edit-fold input[name=description]').fill('renamed in the portal');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.locator('.details').getByText('renamed in the portal').waitFor();
    // the customer sets how much their endpoint takes, with the tenant's token
    await page.fill('form.flow-edit input[name=maxInFlight]', '3');
    await page.fill('form.flow-edit input[name=rateLimitPerSecond]', '50');
    await page.getByRole('button', { name: 'Save flow control' }).click();
    await page.locator('.details').getByText('3 in flight at most · 50/s, burst 1').waitFor();
    const flow = (await api.request<{ maxInFlight: number; rateLimitPerSecond?: number }>('GET', `/v1/receivers/${receiverId}`)).body;
    assert.deepEqual([flow.maxInFlight, flow.rateLimitPerSecond], [3, 50]);
    const { secret } = (await api.request<{ secret: string }>('GET', `/v1/receivers/${receiverId}/secret`)).body;
    await page.getByRole('button', { name: 'Reveal secret' }).click();
    await page.locator('.details').getByText(secret).waitFor();
    await screenshot('endpoint');
  });

  test('shows messages with their attempts, and replays a dead letter', async () => {
    receiver.set('portal-hook', { status: 500 });
    const { id } = await api.post('order.created', { n: 1 }, { tenantId: 'portal-co' });
    await api.post('order.created', { n: 2 }, { tenantId: 'someone-else' });
    await waitFor('the delivery to die', async () => (await api.message(id)).deliveries[0]?.status === 'dead', 10_000);
    await page.goto(`${api.url}/ui/portal#/messages`);
    await page.locator('tr', { hasText: id }).waitFor();
    assert.equal(await page.locator('tbody tr', { hasText: 'order.created' }).count(), 1, "only the tenant's own message is listed");
    await page.goto(`${api.url}/ui/portal#/receivers/${receiverId}`);
    await page.getByRole('link', { name: 'Messages sent to this endpoint' }).click();
    await page.waitForURL(`**/portal#/messages?receiverId=${receiverId}`);
    await page.locator('tr', { hasText: id }).locator('.pill', { hasText: 'dead' }).waitFor();
    await page.goto(`${api.url}/ui/portal#/messages/${id}`);
    await page.locator('article.delivery').getByText('HTTP 500').first().waitFor();
    assert.equal(await page.locator('article.delivery tbody tr').count(), 3, 'every attempt listed');
    receiver.set('portal-hook', { status: 200 });
    await page.goto(`${api.url}/ui/portal#/receivers/${receiverId}`);
    await page.locator(`button[data-message="${id}"]`).click();
    await waitFor('the replayed message page', () => page.url().endsWith(`#/messages/${id}`), 10_000, 50);
    await page.locator('article.delivery h2 .pill', { hasText: 'delivered' }).waitFor({ timeout: 10_000 });
    await screenshot('replayed');
    assert.equal((await api.message(id)).deliveries[0]?.status, 'delivered');
  });

  test('a link past its expiry, a revoked link and the bare page say "This link has expired"', async () => {
    const expiring = await link('portal-co', 1);
    await new Promise((resolve) => setTimeout(resolve, 1200));
    const fresh = await browser.newPage();
    fresh.on('pageerror', (error) => pageErrors.push(error.message));
    await fresh.goto(expiring);
    await fresh.getByRole('heading', { name: 'This link has expired' }).waitFor();
    await fresh.screenshot({ path: `${ARTIFACTS}portal-expired.png` });
    // the open portal, once its token is revoked, says the same on its next call
    const tokens = (await api.request<{ data: Token[] }>('GET', '/v1/tokens?limit=500')).body.data.filter((token) => token.scopes.includes('tenant:portal-co'));
    for (const token of tokens) assert.equal((await api.request('DELETE', `/v1/tokens/${token.id}`)).status, 204);
    await page.goto(`${api.url}/ui/portal#/receivers`);
    await page.getByRole('heading', { name: 'This link has expired' }).waitFor({ timeout: 10_000 });
    const bare = await browser.newPage();
    await bare.goto(`${api.url}/ui/portal`);
    await bare.getByRole('heading', { name: 'This link has expired' }).waitFor();
    const headers = (await fetch(`${api.url}/ui/portal`)).headers;
    assert.match(headers.get('content-security-policy') ?? '', /default-src 'self'.*script-src 'self'/);
  });

  test('the dashboard has a tenants page that makes portal links, and shows each receiver its tenant', async () => {
    await page.goto(`${api.url}/ui`);
    await page.fill('input[name=token]', TEST_TOKEN);
    await page.click('form.sign-in button[type=submit]');
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await page.goto(`${api.url}/ui/#/tenants`);
    await page.fill('input[name=tenant-id]', 'made-in-ui');
    await page.fill('input[name=tenant-name]', 'Made In UI');
    await page.getByRole('button', { name: 'Create tenant' }).click();
    await page.locator('tr', { hasText: 'Made In UI' }).waitFor();
    await page.locator('button[data-portal="portal-co"]').click();
    const url = await page.locator('input[name=portal-url]').inputValue();
    assert.match(url, /\/ui\/portal#token=lst_.+&tenant=portal-co$/);
    await screenshot('tenants');
    await page.goto(`${api.url}/ui/#/receivers`);
    await page.locator('tr', { hasText: receiverId }).getByText('portal-co').waitFor();
    assert.deepEqual(pageErrors, []);
  });
});
