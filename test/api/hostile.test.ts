import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, test } from 'node:test';
import type { Redis } from 'ioredis';
import { useLockstep } from '../support/in-process.js';
import { TEST_TOKEN, type ApiClient } from '../support/lockstep.js';
import { storedState } from '../support/snapshot.js';

/**
 * A few hundred generated bad requests: each must get a 4xx (never a 500), nothing stored may
 * change, and the server must keep serving.
 */
const context = useLockstep('api', { LOCKSTEP_ALLOW_PRIVATE_NETWORKS: 'false' });
let api: ApiClient;
let admin: Redis;
let receiverId: string;
let messageId: string;

/**
 * Called first thing in the test, not from a `before` hook: at a file's top level node 20 runs
 * `before` hooks concurrently, so a hook here could not wait for useLockstep's.
 */
async function setUp(): Promise<void> {
  ({ api } = context());
  admin = context().redis.client();
  receiverId = (await api.createReceiver({ url: 'https://example.com/hook', eventTypes: ['a.*'] })).id;
  messageId = (await api.post('a.b', { ok: true })).id;
}
after(() => admin?.disconnect());

const snapshot = (): Promise<string> => storedState(admin);

function random<T>(items: readonly T[], seed: { n: number }): T {
  seed.n = (seed.n * 1103515245 + 12345) % 2 ** 31;
  return items[seed.n % items.length] as T;
}

const junkValues = [
  null,
  true,
  0,
  -1,
  1e308,
  '',
  ' ',
  'x'.repeat(5000),
  [],
  [[[]]],
  {},
  { a: { b: { c: {} } } },
  '<script>',
  '../../etc/passwd',
  '\u0000',
  'rcv_',
  'msg_x',
  'ftp://x',
  'http://',
  'http://localhost:1',
  'http://10.0.0.1/',
  'http://[::ffff:7f00:1]/',
  'http://0x7f.1/',
  'javascript:alert(1)',
  'https://u:p@example.com/',
];

function badRequests(seed: { n: number }): [method: string, path: string, body: string | undefined, headers: Record<string, string>][] {
  const cases: [string, string, string | undefined, Record<string, string>][] = [];
  const json = { 'content-type': 'application/json' };
  for (let i = 0; i < 60; i++) {
    cases.push([
      'POST',
      '/v1/receivers',
      JSON.stringify({
        url: random(junkValues, seed),
        [random(['eventTypes', 'headers', 'secret', 'timeoutMs', 'enabled', 'zzz'], seed)]: random(junkValues, seed),
      }),
      json,
    ]);
    cases.push([
      'POST',
      '/v1/messages',
      JSON.stringify({ eventType: random(junkValues, seed), payload: 1, [random(['receiverIds', 'idempotencyKey', 'zzz'], seed)]: random(junkValues, seed) }),
      json,
    ]);
    cases.push([
      'PATCH',
      `/v1/receivers/${receiverId}`,
      JSON.stringify({
        [random(['url', 'eventTypes', 'headers', 'secret', 'timeoutMs', 'enabled', 'id', 'createdAt'], seed)]: random(
          junkValues.filter((v) => typeof v !== 'boolean'),
          seed,
        ),
      }),
      json,
    ]);
    /* eslint-disable @typescript-eslint/no-base-to-string -- junk on purpose: an object's "[object Object]" is one more bad value */
    cases.push(['GET', `/v1/receivers?${random(['limit', 'cursor', 'x'], seed)}=${encodeURIComponent(String(random(junkValues, seed)))}`, undefined, {}]);
    cases.push([random(['GET', 'DELETE', 'PATCH'], seed), `/v1/receivers/${encodeURIComponent(String(random(junkValues, seed)))}x`, undefined, {}]);
    cases.push([
      'GET',
      `/v1/receivers/${receiverId}/dead-letters?${random(['limit', 'cursor', 'x'], seed)}=${encodeURIComponent(String(random(junkValues, seed)))}`,
      undefined,
      {},
    ]);
    /* eslint-enable @typescript-eslint/no-base-to-string */
    cases.push([
      'POST',
      `/v1/receivers/${receiverId}/replay`,
      JSON.stringify({ [random(['messageIds', 'since', 'status', 'zzz'], seed)]: random(junkValues, seed) }),
      json,
    ]);
  }
  const truncated = ['{', '{"url":', '[1,2', '"just a string"', 'null', '{"url": "https://example.com"', '\u00ff\u00fe', 'eventType=a'];
  for (const body of truncated) {
    cases.push(['POST', '/v1/receivers', body, json], ['POST', '/v1/messages', body, json], ['POST', '/v1/messages/batch', body, json]);
  }
  cases.push(['POST', '/v1/receivers', 'url=https://example.com', { 'content-type': 'application/x-www-form-urlencoded' }]);
  cases.push(['POST', '/v1/messages', JSON.stringify({ eventType: 'a.b', payload: 'x'.repeat(300 * 1024) }), json]);
  cases.push([
    'POST',
    '/v1/messages',
    JSON.stringify({ eventType: 'a.b', payload: {}, receiverIds: Array.from({ length: 1001 }, (_, i) => `rcv_${String(i).padStart(26, '0')}`) }),
    json,
  ]);
  cases.push(['POST', '/v1/receivers', JSON.stringify({ url: 'https://example.com', eventTypes: Array.from({ length: 3000 }, (_, i) => `t.${i}`) }), json]);
  cases.push(['POST', `/v1/receivers/${receiverId}/replay`, JSON.stringify({ since: 'yesterday' }), json]);
  cases.push(['POST', `/v1/messages/${messageId}/resend`, JSON.stringify({ receiverIds: ['rcv_0000000000000000000000000a'] }), json]);
  cases.push(['GET', '/v1/messages/msg_0000000000000000000000000a', undefined, {}]);
  cases.push(['POST', '/v1/messages', JSON.stringify({ eventType: 'a.b', payload: {} }), { ...json, 'idempotency-key': 'bad key with spaces' }]);
  return cases;
}

function send(method: string, path: string, body: string | undefined, headers: Record<string, string>): Promise<number> {
  const url = new URL(path, api.url);
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { method, headers: { authorization: `Bearer ${TEST_TOKEN}`, ...headers } }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    });
    request.on('error', reject);
    request.end(body);
  });
}

test('hundreds of bad requests: each a 4xx, nothing changed, server healthy', async (t) => {
  await setUp();
  const before = await snapshot();
  const cases = badRequests({ n: 42 });
  const statuses = new Map<number, number>();
  for (const [method, path, body, headers] of cases) {
    const status = await send(method, path, body, headers);
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
    assert.ok(status >= 400 && status < 500, `${method} ${path} ${body?.slice(0, 100)} → ${status}`);
  }
  const huge = await send('GET', '/v1/receivers', undefined, { 'x-huge': 'y'.repeat(64 * 1024) }).catch(() => 431);
  assert.ok(huge >= 400 && huge < 500, `huge header → ${huge}`);
  t.diagnostic(`${cases.length + 1} bad requests: ${JSON.stringify(Object.fromEntries(statuses))}`);
  assert.equal(await snapshot(), before, 'stored state unchanged');
  assert.equal((await fetch(`${api.url}/healthz`)).status, 200);
  assert.equal((await api.request('GET', `/v1/receivers/${receiverId}`)).status, 200);
});
