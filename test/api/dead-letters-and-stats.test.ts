import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { ErrorBody, Page } from '../../src/shapes/common.js';
import type { Stats } from '../../src/shapes/fleet.js';
import type { DeadLetter } from '../../src/shapes/receivers.js';
import { useLockstep } from '../support/in-process.js';
import type { ApiClient } from '../support/lockstep.js';
import { waitFor } from '../support/ports.js';
import type { TestReceiver } from '../support/receiver.js';

type DeadLetterPage = Page<DeadLetter>;

describe('dead letters, fleet stats and the dashboard files (API + emitter in one process)', () => {
  const schedule = '0.05,0.05,0.05';
  const context = useLockstep('all', {
    LOCKSTEP_ALLOW_PRIVATE_NETWORKS: 'true',
    LOCKSTEP_RETRY_SCHEDULE: schedule,
    LOCKSTEP_STRICT_RETRY_SCHEDULE: schedule,
    LOCKSTEP_THROTTLED_MIN_MS: '0',
  });
  let api: ApiClient;
  let receiver: TestReceiver;
  let receiverId: string;
  const ids: string[] = [];
  before(() => ({ api, receiver } = context()));

  const deadLetters = (query = ''): Promise<{ status: number; body: DeadLetterPage }> =>
    api.request<DeadLetterPage>('GET', `/v1/receivers/${receiverId}/dead-letters${query}`);
  const health = async (): Promise<{ deadLetters: number; queueDepth: number }> =>
    (await api.request<{ health: { deadLetters: number; queueDepth: number } }>('GET', `/v1/receivers/${receiverId}`)).body.health;

  test('lists dead letters newest first, with the last answer, page by page', async () => {
    receiver.set('dead-end', { status: 500 });
    // strict: each message dies before the next is tried, so the order of death is the order sent
    receiverId = (await api.createReceiver({ url: receiver.url('dead-end'), eventTypes: ['dl.*'], ordering: 'strict' })).id;
    for (let i = 0; i < 3; i++) ids.push((await api.post('dl.event', { i })).id);
    await waitFor('three dead letters', async () => (await health()).deadLetters === 3, 15_000);
    const first = await deadLetters('?limit=2');
    assert.equal(first.status, 200);
    assert.deepEqual(
      first.body.data.map((letter) => letter.messageId),
      [ids[2], ids[1]],
      'the last to die comes first',
    );
    assert.deepEqual(
      first.body.data.map((letter) => [letter.eventType, letter.attempts, letter.lastAttempt?.statusCode, letter.lastAttempt?.responseBody]),
      [
        ['dl.event', 4, 500, 'nope'],
        ['dl.event', 4, 500, 'nope'],
      ],
    );
    assert.ok(first.body.next);
    const second = await deadLetters(`?limit=2&cursor=${first.body.next}`);
    assert.deepEqual([second.body.data.map((letter) => letter.messageId), second.body.next], [[ids[0]], null]);
  });

  test('replays only the chosen dead letters; the others stay dead', async () => {
    receiver.set('dead-end', { status: 200 });
    const notDeadHere = ids[1]?.replace(/.$/, (last) => (last === '0' ? '1' : '0')) as string; // a well-formed id that is no dead letter
    const replay = await api.request<{ count: number }>('POST', `/v1/receivers/${receiverId}/replay`, { messageIds: [ids[0], notDeadHere] });
    assert.deepEqual([replay.status, replay.body.count], [202, 1], 'ids that are not dead letters of this receiver are skipped');
    await waitFor('the replayed message to be delivered', async () => (await api.message(ids[0] as string)).deliveries[0]?.status === 'delivered', 15_000);
    assert.deepEqual(
      (await deadLetters()).body.data.map((letter) => letter.messageId),
      [ids[2], ids[1]],
    );
    assert.equal((await health()).deadLetters, 2);
  });

  test('refuses bad dead-letter requests by field, changing nothing', async () => {
    const both = await api.request<ErrorBody>('POST', `/v1/receivers/${receiverId}/replay`, { since: new Date(0).toISOString(), messageIds: [ids[1]] });
    assert.deepEqual([both.status, both.body.field], [400, 'since']);
    const badId = await api.request<ErrorBody>('POST', `/v1/receivers/${receiverId}/replay`, { messageIds: ['nope'] });
    assert.equal(badId.status, 400);
    assert.match(badId.body.field ?? '', /^messageIds/);
    const badCursor = await api.request<ErrorBody>('GET', `/v1/receivers/${receiverId}/dead-letters?cursor=12.nope`);
    assert.deepEqual([badCursor.status, badCursor.body.field], [400, 'querystring.cursor']);
    const badLimit = await api.request<ErrorBody>('GET', `/v1/receivers/${receiverId}/dead-letters?limit=0`);
    assert.deepEqual([badLimit.status, badLimit.body.field], [400, 'querystring.limit']);
    const unknown = await api.request<ErrorBody>('GET', '/v1/receivers/rcv_00000000000000000000000000/dead-letters');
    assert.equal(unknown.status, 404);
    assert.equal((await health()).deadLetters, 2, 'nothing was replayed');
  });

  test('stats show this process with its counters and the queues', async () => {
    assert.equal((await api.request('GET', '/v1/stats', undefined, { authorization: 'Bearer wrong' })).status, 401);
    let stats: Stats | undefined;
    await waitFor(
      'a report counting the deliveries',
      async () => {
        stats = (await api.request<Stats>('GET', '/v1/stats')).body;
        return (stats.processes[0]?.attempts.delivered ?? 0) >= 1;
      },
      10_000,
      200,
    );
    const [self] = stats?.processes ?? [];
    assert.deepEqual([stats?.processes.length, self?.role, self?.pid], [1, 'all', process.pid]);
    assert.equal(self?.accepted, 3);
    assert.equal(self?.attempts.dead, 3);
    const lagCounts = self?.lagBucketsMs.map(([, count]) => count) ?? [];
    assert.deepEqual(
      lagCounts,
      [...lagCounts].sort((a, b) => a - b),
      'cumulative buckets',
    );
    assert.equal(lagCounts.at(-1), 1, 'one delivery so far, within the last bucket');
    assert.equal(stats?.queue.depth.dead, 2);
  });

  test('the dashboard is served from this origin only', async () => {
    const bare = await fetch(`${api.url}/ui`, { redirect: 'manual' });
    assert.deepEqual([bare.status, bare.headers.get('location')], [301, '/ui/']);
    const page = await fetch(`${api.url}/ui/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    const html = await page.text();
    assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//, 'no asset from another origin');
    for (const asset of ['app.js', 'app.css', 'pages/locks.js', 'favicon.svg']) assert.equal((await fetch(`${api.url}/ui/${asset}`)).status, 200, asset);
    assert.match((await fetch(`${api.url}/ui/app.js`)).headers.get('content-type') ?? '', /javascript/);
  });
});
