import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { browserMissing } from '../support/browser.js';
import { useDashboard, type Dashboard } from '../support/dashboard.js';
import { TEST_TOKEN, type ApiClient } from '../support/lockstep.js';
import { waitFor } from '../support/ports.js';
import type { TestReceiver } from '../support/receiver.js';

const missing = browserMissing('dashboard');

type FlowSettings = { maxInFlight: number; rateLimitPerSecond?: number; rateLimitBurst: number; retrySchedule?: number[] };

// The messages and dead-letter pages: dashboard-messages.test.ts.
describe('dashboard in a real browser', { skip: missing }, () => {
  const browsing = useDashboard();
  let api: ApiClient;
  let receiver: TestReceiver;
  let page: Page;
  let open: Dashboard['open'];
  let screenshot: Dashboard['screenshot'];
  let dashboard: Dashboard;

  before(() => {
    dashboard = browsing();
    ({ api, receiver, page, open, screenshot } = dashboard);
  });

  test('signs in with the API token, refusing a wrong one, and keeps it for the session', async () => {
    await page.goto(`${api.url}/ui`);
    await page.locator('form.sign-in').waitFor();
    assert.equal(await page.locator('#nav').isVisible(), false, 'no navigation (nor "Sign out") before signing in');
    await page.fill('input[name=token]', 'not-the-token');
    await page.click('form.sign-in button[type=submit]');
    await page.getByRole('alert').getByText('That token was refused').waitFor();
    await screenshot('sign-in');
    await page.fill('input[name=token]', TEST_TOKEN);
    await page.click('form.sign-in button[type=submit]');
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    assert.equal(await page.locator('#nav').isVisible(), true);
    await dashboard.reload();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.getItem('lockstep.token')), TEST_TOKEN);
  });

  test('adds a receiver from the receivers page, to the tenant the page shows, and says what the API refused', async () => {
    assert.equal((await api.request('POST', '/v1/tenants', { id: 'ui-added' })).status, 201);
    await open('receivers?tenant=ui-added');
    await page.fill('form.receiver-form input[name=url]', 'ftp://example.com/hook');
    await page.getByRole('button', { name: 'Add receiver' }).click();
    await page.getByRole('alert').getByText('url must use http or https').waitFor();
    await page.fill('form.receiver-form input[name=url]', receiver.url('added-in-ui'));
    await page.fill('form.receiver-form input[name=eventTypes]', 'order.*, invoice.paid');
    await page.getByRole('button', { name: 'Add receiver' }).click();
    await page.waitForURL(/#\/receivers\/rcv_/);
    const id = decodeURIComponent(page.url().split('/').pop() ?? '');
    const added = (await api.request<{ tenantId?: string; eventTypes: string[] }>('GET', `/v1/receivers/${id}`)).body;
    assert.deepEqual([added.tenantId, added.eventTypes], ['ui-added', ['order.*', 'invoice.paid']]);
  });

  test('shows a registered receiver with its health', async () => {
    const { id } = await api.createReceiver({ url: receiver.url('shop'), description: 'shop backend' });
    await open('receivers');
    const row = page.locator('tr', { hasText: id });
    await row.getByText('no delivery yet').waitFor();
    await api.post('order.created', { n: 1 });
    await row.getByText('healthy').waitFor({ timeout: 10_000 });
    await screenshot('receivers');
  });

  test('the receiver page shows no secret and masks credential headers until "Reveal secret" asks for it', async () => {
    const { id, secret } = await api.createReceiver({
      url: receiver.url('private'),
      eventTypes: ['private.*'],
      headers: { authorization: 'Bearer dash-credential-42', 'x-tenant': 'acme' },
    });
    await open(`receivers/${id}`);
    const details = page.locator('.details');
    await details.getByText('x-tenant: acme').waitFor();
    await details.getByText('authorization: ••••••••').waitFor();
    const html = await page.content();
    assert.ok(!html.includes(secret) && !html.includes('dash-credential-42'), 'neither the secret nor the credential is on the page');
    await page.getByRole('button', { name: 'Reveal secret' }).click();
    await details.getByText(secret).waitFor();
    await screenshot('receiver-secret');
    await page.waitForTimeout(3500); // one refresh of the details: the revealed secret stays
    await details.getByText(secret).waitFor({ timeout: 1000 });
    await page.getByRole('button', { name: 'Hide' }).click();
    await details.getByText(secret).waitFor({ state: 'detached' });
    assert.ok(!(await page.content()).includes('dash-credential-42'));
  });

  test('a disabled receiver shows why, and Enable resumes it', async () => {
    const { id } = await api.createReceiver({ url: receiver.url('paused'), eventTypes: ['paused.*'] });
    await api.request('PATCH', `/v1/receivers/${id}`, { enabled: false });
    const { id: messageId } = await api.post('paused.event', {}, { receiverIds: [id] });
    await open(`receivers/${id}`);
    await page.getByText('disabled: disabled by operator').waitFor();
    await screenshot('receiver-disabled');
    await page.getByRole('button', { name: 'Enable' }).click();
    await page.locator('.details').getByText('healthy').waitFor({ timeout: 10_000 });
    assert.equal((await api.message(messageId)).deliveries[0]?.status, 'delivered');
  });

  test("a receiver's page rotates its secret, edits it and deletes it", async () => {
    const { id } = await api.createReceiver({ url: receiver.url('tools'), eventTypes: ['tools.*'] });
    const secretOf = async () => (await api.request<{ secret: string }>('GET', `/v1/receivers/${id}/secret`)).body.secret;
    const first = await secretOf();
    await open(`receivers/${id}`);
    const details = page.locator('.details');
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Rotate secret' }).click();
    await details.getByText(/rotating: the previous key also signs until/).waitFor();
    const second = await secretOf();
    assert.notEqual(second, first);
    await details.getByText(second).waitFor(); // shown at once, without a "Reveal"
    await page.getByText('Edit receiver').click();
    await page.locator('.edit-fold input[name=url]').fill(receiver.url('tools-moved'));
    await page.getByRole('button', { name: 'Save changes' }).click();
    await details.getByText(receiver.url('tools-moved')).waitFor();
    await screenshot('receiver-tools');
    page.once('dialog', (dialog) => void dialog.dismiss()); // a second thought keeps it
    await page.getByRole('button', { name: 'Delete' }).click();
    assert.equal((await api.request('GET', `/v1/receivers/${id}`)).status, 200);
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Delete' }).click();
    await page.waitForURL(/#\/receivers$/);
    assert.equal((await api.request('GET', `/v1/receivers/${id}`)).status, 404);
  });

  test('shows the lock holder while a slow receiver is being served', async () => {
    receiver.set('slow', { delayMs: 4000 });
    const { id } = await api.createReceiver({ url: receiver.url('slow'), eventTypes: ['slow.*'] });
    await open('locks');
    await api.post('slow.event', {});
    const row = page.locator('tr', { hasText: id });
    await row.waitFor({ timeout: 5000 });
    const [holder] = (await api.request<{ data: { emitterId: string }[] }>('GET', '/v1/locks')).body.data;
    await row.getByText(holder?.emitterId ?? '?').waitFor();
    await screenshot('locks');
    await row.waitFor({ state: 'detached', timeout: 15_000 }); // refreshed every second: gone once served
  });

  test('the overview charts the fleet and lists this process', async () => {
    await open('overview');
    await page.locator('figure.chart-box').first().waitFor({ timeout: 10_000 });
    await page.locator('tr', { hasText: String(process.pid) }).waitFor();
    await waitFor('throughput recorded', async () => (await page.locator('polyline').count()) > 0, 10_000, 200);
    await screenshot('overview');
  });

  test('the catalog page lists the event types; the receiver page offers them and shows its signing state', async () => {
    await api.request('POST', '/v1/event-types', { name: 'invoice.paid', description: 'an invoice was paid', schema: { type: 'object' } });
    await api.request('POST', '/v1/event-types', { name: 'invoice.voided', deprecated: true });
    await open('event-types');
    const row = page.locator('tr', { hasText: 'invoice.voided' });
    await row.getByText('deprecated').waitFor();
    await page.locator('tr', { hasText: 'invoice.paid' }).getByText('an invoice was paid').waitFor();
    await page.locator('.operational-events tr', { hasText: 'lockstep.receiver.failing' }).getByText('breaker opened').waitFor();
    await screenshot('event-types');

    const { id } = await api.createReceiver({ url: receiver.url('catalog'), eventTypes: ['catalog.own'], signatureScheme: 'ed25519' });
    await api.request('POST', `/v1/receivers/${id}/secret/rotate`, { overlapMs: 3_600_000 });
    await open(`receivers/${id}`);
    await page
      .locator('.details')
      .getByText(/ed25519 .*rotating: the previous key also signs until/)
      .waitFor();
    await page.getByRole('button', { name: 'Reveal public key' }).waitFor();
    await page.selectOption('select[name=catalog]', 'invoice.paid');
    // a receiver without a tenant is offered Lockstep's operational events too
    await page.selectOption('select[name=catalog]', 'lockstep.*');
    assert.equal(await page.inputValue('input[name=eventTypes]'), 'catalog.own, invoice.paid, lockstep.*');
    await page.getByRole('button', { name: 'Save event types' }).click();
    await page.locator('.details').getByText('catalog.own, invoice.paid, lockstep.*').waitFor();
    assert.deepEqual((await api.request<{ eventTypes: string[] }>('GET', `/v1/receivers/${id}`)).body.eventTypes, [
      'catalog.own',
      'invoice.paid',
      'lockstep.*',
    ]);
    await screenshot('receiver-signing');
  });

  test('the receiver page edits the flow control; a refused value names its field and changes nothing; emptied, the rate and schedule go', async () => {
    const { id } = await api.createReceiver({ url: receiver.url('flow') });
    const stored = async (): Promise<FlowSettings> => {
      const { maxInFlight, rateLimitPerSecond, rateLimitBurst, retrySchedule } = (await api.request<FlowSettings>('GET', `/v1/receivers/${id}`)).body;
      return { maxInFlight, rateLimitPerSecond, rateLimitBurst, retrySchedule };
    };
    const save = (): Promise<void> => page.getByRole('button', { name: 'Save flow control' }).click();
    await open(`receivers/${id}`);
    const details = page.locator('.details');
    await details.getByText('1 in flight at most · no rate limit').waitFor();
    await page.fill('form.flow-edit input[name=maxInFlight]', '4');
    await page.fill('form.flow-edit input[name=rateLimitPerSecond]', '20');
    await page.fill('form.flow-edit input[name=rateLimitBurst]', '5');
    await page.fill('form.flow-edit input[name=retrySchedule]', '1, 5, 60');
    await save();
    await details.getByText('4 in flight at most · 20/s, burst 5 · retries after 1 s, 5 s, 60 s').waitFor();
    assert.deepEqual(await stored(), { maxInFlight: 4, rateLimitPerSecond: 20, rateLimitBurst: 5, retrySchedule: [1, 5, 60] });
    await screenshot('receiver-flow-control');

    await page.fill('form.flow-edit input[name=retrySchedule]', '1, soon');
    await save();
    await page.getByText(/Could not save the flow control: .*retrySchedule/).waitFor();
    assert.deepEqual((await stored()).retrySchedule, [1, 5, 60], 'a refused PATCH changes nothing');

    await page.fill('form.flow-edit input[name=maxInFlight]', '2');
    await page.fill('form.flow-edit input[name=rateLimitPerSecond]', '');
    await page.fill('form.flow-edit input[name=retrySchedule]', '');
    await save();
    await details.getByText('2 in flight at most · no rate limit').waitFor();
    assert.deepEqual(await stored(), { maxInFlight: 2, rateLimitPerSecond: undefined, rateLimitBurst: 5, retrySchedule: undefined });
  });

  test('signing out forgets the token; no page error or failed request on the way', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.locator('form.sign-in').waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.getItem('lockstep.token')), null);
    assert.deepEqual(dashboard.errors, []);
  });
});
