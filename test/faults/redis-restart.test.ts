import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { ErrorBody } from '../../src/shapes/common.js';
import { Fleet } from '../support/fleet.js';

let fleet: Fleet;
before(async () => {
  fleet = await Fleet.start(2, { LOCKSTEP_RETRY_SCHEDULE: '0.2,0.2,0.2,0.2,0.2,0.2,0.2,0.2', LOCKSTEP_RECONCILE_EVERY_MS: '1000' });
});
after(() => fleet?.stop());

test('Redis stopped for 5 s under load: API answers 503 meanwhile, emitters recover by themselves, nothing accepted is lost', async (t) => {
  const { receiver, client, redis } = fleet;
  const names = ['a', 'b', 'c', 'd'];
  for (const name of names) {
    receiver.set(name, { delayMs: 5 });
    await client.createReceiver({ url: receiver.url(name), eventTypes: [`${name}.*`] });
  }
  const accepted: string[] = [];
  const statuses = new Map<number, number>();
  let slowest = 0;
  let producing = true;
  const producer = (async () => {
    for (let n = 0; producing; n++) {
      const started = Date.now();
      const response = await client
        .request<{ id: string }>('POST', '/v1/messages', { eventType: `${names[n % names.length]}.event`, payload: { n } })
        .catch(() => ({ status: 0, body: { id: '' } }));
      slowest = Math.max(slowest, Date.now() - started);
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      if (response.status === 202) accepted.push(response.body.id);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  })();

  await new Promise((resolve) => setTimeout(resolve, 1500));
  await redis.stop();
  const stoppedAt = Date.now();
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const down = await client.request<ErrorBody>('POST', '/v1/messages', { eventType: 'a.event', payload: {} });
  assert.equal(down.status, 503, JSON.stringify(down.body));
  assert.equal(down.body.code, 'LOCKSTEP_REDIS_UNAVAILABLE');
  assert.match(down.body.message, /Redis is unavailable/);
  assert.equal((await fetch(`${client.url}/readyz`)).status, 503);
  await new Promise((resolve) => setTimeout(resolve, 3000 - (Date.now() - stoppedAt - 2000)));
  await redis.start();
  t.diagnostic(`Redis was down ${Date.now() - stoppedAt} ms`);
  await new Promise((resolve) => setTimeout(resolve, 2000));
  producing = false;
  await producer;
  t.diagnostic(`answers: ${JSON.stringify(Object.fromEntries(statuses))}; slowest answer ${slowest} ms`);
  assert.ok((statuses.get(503) ?? 0) > 0, 'the API answered 503 while Redis was down');
  assert.ok(slowest < 3000, `no request hung (slowest ${slowest} ms)`);
  assert.ok(
    [...statuses.keys()].every((status) => status === 202 || status === 503),
    'only 202 and 503',
  );

  await receiver.waitForDelivered(accepted, 60_000);
  const twice = receiver.deliveredMoreThanOnce();
  t.diagnostic(`${accepted.length} accepted, all delivered; ${twice} delivered twice (in flight at the cut)`);
  assert.ok(twice <= names.length, `at most one in-flight attempt per receiver may repeat; ${twice} did`);
  assert.deepEqual(receiver.overlaps, []);
});
