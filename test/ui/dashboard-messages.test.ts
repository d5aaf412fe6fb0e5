import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { browserMissing } from '../support/browser.js';
import { useDashboard, type Dashboard } from '../support/dashboard.js';
import type { ApiClient } from '../support/lockstep.js';
import { waitFor } from '../support/ports.js';
import type { TestReceiver } from '../support/receiver.js';

const missing = browserMissing('dashboard');

// The dashboard's messages and dead-letter pages (the rest: dashboard.test.ts).
describe('dashboard messages in a real browser', { skip: missing }, () => {
  const browsing = useDashboard();
  let api: ApiClient;
  let receiver: TestReceiver;
  let page: Page;
  let open: Dashboard['open'];
  let screenshot: Dashboard['screenshot'];

  before(async () => {
    ({ api, receiver, page, open, screenshot } = browsing());
    await api.createReceiver({ url: receiver.url('shop'), description: 'takes every event' });
    await browsing().signIn();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
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

  test('resends a message, then deletes its payload and shows when', async () => {
    const { id } = await api.post('mistake.event', { card: '4242 4242 4242 4242' });
    await open(`messages/${id}`);
    await page.getByText('payload', { exact: true }).click();
    await page.getByText('4242 4242 4242 4242').waitFor();
    await page.locator('article.delivery tbody tr').first().waitFor({ timeout: 15_000 });
    await page.getByRole('button', { name: 'Resend' }).click();
    await waitFor('the second attempt shown', async () => (await page.locator('article.delivery tbody tr').count()) === 2, 15_000, 200);
    assert.ok(await page.getByText('4242 4242 4242 4242').isVisible(), 'the polls left the payload open');
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Delete payload' }).click();
    await page.locator('.payload-deleted').waitFor();
    assert.equal(await page.getByText('4242 4242 4242 4242').count(), 0);
    const message = await api.message(id);
    assert.deepEqual([message.payload, typeof message.payloadDeletedAt], [null, 'string']);
    await open('messages');
    await page
      .locator('section tbody tr', { has: page.locator(`a:text-is("${id}")`) })
      .locator('.pill', { hasText: 'payload deleted' })
      .waitFor();
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
  test('no page error or failed request on the way', () => {
    assert.deepEqual(browsing().errors, []);
  });
});
