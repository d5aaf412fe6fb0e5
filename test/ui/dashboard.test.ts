import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { ARTIFACTS, browserMissing, launchBrowser } from '../support/browser.js';
import { useLockstep } from '../support/in-process.js';
import { TEST_TOKEN, type ApiClient } from '../support/lockstep.js';
import { waitFor } from '../support/ports.js';
import type { TestReceiver } from '../support/receiver.js';

const missing = browserMissing('dashboard');

type FlowSettings = { maxInFlight: number; rateLimitPerSecond?: number; rateLimitBurst: number; retrySchedule?: number[] };

describe('dashboard in a real browser', { skip: missing }, () => {
  const context = useLockstep('all', { LOCKSTEP_ALLOW_PRIVATE_NETWORKS: 'true', LOCKSTEP_RETRY_SCHEDULE: '0.05,0.05,0.05', LOCKSTEP_THROTTLED_MIN_MS: '0' });
  let api: ApiClient;
  let receiver: TestReceiver;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];
  // A reload cancels the old page's fetches still in flight (net::ERR_ABORTED): the test's doing, not the dashboard's.
  let reloading = false;

  before(async () => {
    ({ api, receiver } = context());
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('requestfailed', (request) => {
      const reason = request.failure()?.errorText ?? 'no reason';
      if (!(reloading && reason === 'net::ERR_ABORTED')) pageErrors.push(`request failed: ${request.method()} ${request.url()} (${reason})`);
    });
  });
  after(async () => {
    await browser?.close();
  });

  const open = (hash: string): Promise<unknown> => page.goto(`${api.url}/ui/#/${hash}`);
  const screenshot = (name: string): Promise<Buffer> => page.screenshot({ path: `${ARTIFACTS}dashboard-${name}.png`, fullPage: true });

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
    reloading = true;
    await page.reload().finally(() => (reloading = false));
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

  test('finds a message by id and shows its attempts', async () => {
    receiver.set('flaky', { status: 503 });
    const flaky = await api.createReceiver({ url: receiver.url('flaky'), eventTypes: ['flaky.*'] });
    const { id } = await api.post('flaky.event', { hello: 'world' });
    await open('messages');
    await page.fill('input[name=message-id]', id);
    await page.click('form.search button[type=submit]');
    const delivery = page.locator(`article.delivery[data-receiver="${flaky.id}"]`); // the shop receiver takes every event too
    await delivery.getByText('dead').waitFor({ timeout: 15_000 });
    await delivery.getByText(receiver.url('flaky')).waitFor(); // a receiver created since the page last read the URLs
    assert.equal(await delivery.locator('tbody tr').count(), 4, 'four attempts listed');
    await delivery.locator('tbody tr').first().getByText('HTTP 503').waitFor();
    await screenshot('message');
  });

  test('the messages list filters by event type and pages back through older messages', async () => {
    const sent: string[] = [];
    for (let n = 0; n < 55; n++) sent.push((await api.post('paged.event', { n })).id);
    await api.post('other.event', {});
    await open('messages');
    await page.fill('form.filter input[name=event-type]', 'paged.*');
    await page.click('form.filter button[type=submit]');
    const rows = page.locator('section tbody tr');
    await page.getByText('messages 1–50, newest first').waitFor();
    assert.equal(await rows.first().locator('a').textContent(), sent.at(-1), 'newest first');
    assert.ok(!(await page.content()).includes('other.event'), 'only the filtered type');
    await screenshot('messages');
    await page.getByRole('button', { name: 'Older' }).click();
    await page.getByText('messages 51–55, newest first').waitFor();
    assert.deepEqual(await rows.locator('a').allTextContents(), sent.slice(0, 5).reverse());
    assert.equal(await page.getByRole('button', { name: 'Older' }).count(), 0, 'the oldest page has no Older');
    await page.getByRole('button', { name: 'Newer' }).click();
    await page.getByText('messages 1–50, newest first').waitFor();
  });

  test('replays a dead letter and shows it delivered', async () => {
    receiver.set('flaky', { status: 200 });
    await open('dead');
    const replay = page.locator('button[data-message]');
    await replay.first().waitFor();
    const messageId = await replay.first().getAttribute('data-message');
    await screenshot('dead-letters');
    await replay.first().click();
    await page.waitForURL(`**/#/messages/${messageId}`);
    await waitFor(
      'every delivery of the replayed message shown delivered',
      async () => {
        const shown = await page.locator('article.delivery h2 .pill').allTextContents();
        return shown.length === 2 && shown.every((status) => status === 'delivered');
      },
      15_000,
      200,
    );
    await screenshot('replayed');
    assert.deepEqual(
      (await api.message(messageId as string)).deliveries.map((delivery) => delivery.status),
      ['delivered', 'delivered'],
    );
  });

  test("the messages list shows where each delivery stands, narrows to a status, and a receiver's page opens its messages", async () => {
    receiver.set('broken', { status: 500 });
    const broken = await api.createReceiver({ url: receiver.url('broken'), eventTypes: ['broken.*'] });
    const { id } = await api.post('broken.event', {});
    await waitFor('the delivery to the broken receiver dead', async () => (await api.message(id)).deliveries.some((d) => d.status === 'dead'), 15_000, 200);
    await api.post('paged.event', { after: 'broken' }); // delivered everywhere: not in a list of dead ones
    await open('messages');
    const row = page.locator('section tbody tr', { has: page.locator(`a:text-is("${id}")`) });
    // the shop receiver takes every event: one delivery delivered, one dead
    await row.locator('.pill.bad', { hasText: 'dead' }).waitFor();
    await row.locator('.pill.ok', { hasText: 'delivered' }).waitFor();
    await page.selectOption('form.filter select[name=status]', 'dead');
    await page.click('form.filter button[type=submit]');
    await waitFor('only messages with a dead delivery listed', async () => !(await page.content()).includes('paged.event'), 5_000, 100);
    await row.waitFor();
    // a window that ends before the message, then one around it (the inputs take the browser's local time)
    const local = (ms: number): string => new Date(ms - new Date(ms).getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
    await page.fill('form.filter input[name=until]', local(Date.now() - 3_600_000));
    await page.click('form.filter button[type=submit]');
    await page.getByText('No message matches.').waitFor();
    await page.fill('form.filter input[name=since]', local(Date.now() - 3_600_000));
    await page.fill('form.filter input[name=until]', local(Date.now() + 3_600_000));
    await page.click('form.filter button[type=submit]');
    await row.waitFor();

    await open(`receivers/${broken.id}`);
    await page.getByRole('link', { name: 'Messages sent to this receiver' }).click();
    await page.waitForURL(`**/#/messages?receiverId=${broken.id}`);
    await page.locator('p.sub', { hasText: 'Sent to' }).getByText(broken.id).waitFor();
    assert.deepEqual(await page.locator('section tbody tr a[href^="#/messages/"]').allTextContents(), [id], "only the broken receiver's message");
    assert.deepEqual(await page.locator('section tbody tr .pill').allTextContents(), ['dead'], "only that receiver's delivery");
    await screenshot('messages-of-receiver');
    await page.getByRole('button', { name: 'Show every receiver' }).click();
    await page.locator('section tbody tr').nth(1).waitFor();
    receiver.set('broken', { status: 200 });
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
    assert.equal(await page.inputValue('input[name=eventTypes]'), 'catalog.own, invoice.paid');
    await page.getByRole('button', { name: 'Save event types' }).click();
    await page.locator('.details').getByText('catalog.own, invoice.paid').waitFor();
    assert.deepEqual((await api.request<{ eventTypes: string[] }>('GET', `/v1/receivers/${id}`)).body.eventTypes, ['catalog.own', 'invoice.paid']);
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
    assert.deepEqual(pageErrors, []);
  });
});
