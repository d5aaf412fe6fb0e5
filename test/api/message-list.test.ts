import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { ErrorBody, Page } from '../../src/shapes/common.js';
import type { MessageSummary } from '../../src/shapes/message-list.js';
import { quickRetries, useLockstep } from '../support/in-process.js';
import type { ApiClient } from '../support/lockstep.js';
import { waitFor } from '../support/ports.js';
import type { TestReceiver } from '../support/receiver.js';

/**
 * GET /v1/messages as an operator asks it "what went where, and how did it end": every summary
 * says where each delivery stands, and the list narrows to one receiver's messages and to a
 * delivery status (that receiver's, when both are given), page by page.
 */
describe('the message list: delivery statuses, by receiver and by status', () => {
  const context = useLockstep('all', quickRetries());
  let api: ApiClient;
  let receiver: TestReceiver;
  let ok: string;
  let failing: string;
  const both: string[] = [];
  const onlyOk: string[] = [];
  before(async () => {
    ({ api, receiver } = context());
    receiver.set('list-failing', { status: 500 });
    ok = (await api.createReceiver({ url: receiver.url('list-ok'), eventTypes: ['list.both', 'list.ok'] })).id;
    failing = (await api.createReceiver({ url: receiver.url('list-failing'), eventTypes: ['list.both'] })).id;
    for (let n = 0; n < 3; n++) both.push((await api.post('list.both', { n })).id);
    for (let n = 0; n < 2; n++) onlyOk.push((await api.post('list.ok', { n })).id);
    await waitFor(
      'every delivery final',
      async () =>
        (await list('?eventType=list.*')).data.every((m) =>
          m.deliveries.every((d) => d.status !== 'pending' && d.status !== 'retrying' && d.status !== 'delivering'),
        ),
      15_000,
    );
  });

  const list = async (query: string): Promise<Page<MessageSummary>> => {
    const { status, body } = await api.request<Page<MessageSummary>>('GET', `/v1/messages${query}`);
    assert.equal(status, 200, JSON.stringify(body));
    return body;
  };
  const ids = (page: Page<MessageSummary>): string[] => page.data.map((message) => message.id);

  test('each summary lists its deliveries in the order of receiverIds, with their status now', async () => {
    const page = await list('?eventType=list.*');
    assert.deepEqual(ids(page), [...both, ...onlyOk].reverse());
    const first = page.data.find((message) => message.id === both[0]);
    assert.deepEqual([...(first?.receiverIds ?? [])].sort(), [ok, failing].sort());
    assert.deepEqual(
      first?.deliveries,
      first?.receiverIds.map((receiverId) => ({ receiverId, status: receiverId === ok ? 'delivered' : 'dead' })),
    );
    assert.deepEqual(page.data.find((message) => message.id === onlyOk[0])?.deliveries, [{ receiverId: ok, status: 'delivered' }]);
  });

  test('receiverId keeps the messages sent to that receiver, page by page', async () => {
    assert.deepEqual(ids(await list(`?receiverId=${failing}`)), [...both].reverse());
    const first = await list(`?receiverId=${ok}&limit=3`);
    assert.deepEqual(ids(first), [...both, ...onlyOk].reverse().slice(0, 3));
    assert.equal(first.next, first.data.at(-1)?.id);
    const second = await list(`?receiverId=${ok}&limit=3&cursor=${first.next}`);
    assert.deepEqual([ids(second), second.next], [both.slice(0, 2).reverse(), null]);
  });

  test('status keeps the messages with a delivery in it; with receiverId, that receiver’s delivery', async () => {
    assert.deepEqual(ids(await list('?status=dead')), [...both].reverse());
    assert.deepEqual(ids(await list(`?status=delivered&eventType=list.*`)), [...both, ...onlyOk].reverse());
    assert.deepEqual(ids(await list(`?status=delivered&receiverId=${failing}`)), []);
    assert.deepEqual(ids(await list(`?status=dead&receiverId=${ok}`)), []);
    const dead = await list(`?status=dead&receiverId=${failing}&limit=2`);
    assert.deepEqual(ids(dead), both.slice(1).reverse());
    assert.deepEqual(ids(await list(`?status=dead&receiverId=${failing}&limit=2&cursor=${dead.next}`)), [both[0]]);
    assert.deepEqual(ids(await list('?status=retrying')), []);
  });

  test('since and until keep the messages accepted in that window, page by page', async () => {
    const all = (await list('?eventType=list.*')).data;
    const at = (id: string | undefined): string => all.find((message) => message.id === id)?.createdAt ?? '';
    const [since, until] = [at(both[1]), at(onlyOk[0])];
    const inWindow = all.filter((message) => message.createdAt >= since && message.createdAt < until).map((message) => message.id);
    assert.ok(inWindow.includes(both[1] as string) && !inWindow.includes(onlyOk[0] as string), 'since is in, until is out');
    assert.deepEqual(ids(await list(`?eventType=list.*&since=${since}&until=${until}`)), inWindow);
    assert.deepEqual(
      ids(await list(`?eventType=list.*&until=${until}`)),
      all.filter((message) => message.createdAt < until).map((message) => message.id),
    );
    const newest = all[0]?.id as string; // a cursor newer than until: the list starts at until
    assert.deepEqual(ids(await list(`?eventType=list.*&until=${until}&cursor=${newest}`)), ids(await list(`?eventType=list.*&until=${until}`)));
    const first = await list(`?eventType=list.*&since=${since}&until=${until}&limit=1`);
    assert.deepEqual(ids(first), inWindow.slice(0, 1));
    if (inWindow.length > 1) assert.deepEqual(ids(await list(`?eventType=list.*&until=${until}&limit=1&cursor=${first.next}`)), inWindow.slice(1, 2));
    assert.deepEqual(ids(await list(`?eventType=list.*&since=${until}&until=${since}`)), [], 'an empty window lists nothing');
  });

  test('a status, receiver id or time that cannot be one is refused, naming the field', async () => {
    for (const [query, field, words] of [
      ['?status=failed', 'querystring.status', 'must be one of: pending, delivering, delivered, retrying, dead, cancelled'],
      ['?receiverId=rcv_x', 'querystring.receiverId', 'must be a receiver id'],
      ['?until=yesterday', 'querystring.until', 'must be'],
    ] as const) {
      const { status, body } = await api.request<ErrorBody>('GET', `/v1/messages${query}`);
      assert.equal(status, 400, query);
      assert.equal(body.field, field);
      assert.match(body.message, new RegExp(`^${field.replace('.', '\\.')} ${words}`));
    }
  });
});
