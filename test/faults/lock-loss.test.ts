import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DeliveryClient } from '../../src/delivery/client.js';
import { AddressGuard } from '../../src/delivery/address-guard.js';
import { RedisReceiverLocks } from '../../src/locks/redis.js';
import { Fleet } from '../support/fleet.js';
import { waitFor } from '../support/ports.js';
import { TestReceiver } from '../support/receiver.js';
import { defaultPrefix, redisPids, redisTarget, startTestRedis } from '../support/test-redis.js';

const TTL_MS = 2000;

test('renewals stop (Redis paused): the in-flight request is aborted within 100 ms of the local deadline', async (t) => {
  const redis = await startTestRedis();
  const receiver = await TestReceiver.start();
  receiver.set('hang', { hang: true });
  const shardGroups = Number(process.env.LOCKSTEP_REDIS_SHARD_GROUPS ?? 1);
  const locks = new RedisReceiverLocks(redisTarget(redis), { emitterId: 'test', ttlMs: TTL_MS, prefix: defaultPrefix(redis), shardGroups });
  // every node of a cluster: the one holding the lock's slot among them
  const signalRedis = (name: NodeJS.Signals): void => redisPids(redis).forEach((pid) => process.kill(pid, name));
  const client = new DeliveryClient({ guard: new AddressGuard({ allowPrivateNetworks: true, allowCidrs: [] }) });
  try {
    await locks.start();
    const lock = await locks.acquire('rcv_hang', { waitMs: 0 });
    assert.ok(lock);
    const sending = client.send({ url: receiver.url('hang'), headers: {}, body: '{}', timeoutMs: 60_000, signal: lock.lost });
    await waitFor('request at the receiver', () => receiver.inFlightTo('hang') === 1);
    signalRedis('SIGSTOP'); // the lock service stops answering: renewals hang
    const result = await sending;
    const abortedAt = performance.now(); // the deadline is on the monotonic clock
    signalRedis('SIGCONT');
    const late = Math.round(abortedAt - lock.deadline());
    t.diagnostic(`aborted ${late} ms after the local deadline; error: ${result.error}`);
    assert.equal(result.errorKind, 'aborted');
    assert.match(result.error ?? '', /lock on rcv_hang lost/);
    assert.ok(late >= 0 && late <= 100, `aborted ${late} ms after the deadline`);
    assert.equal(lock.isHeld(), false);
  } finally {
    signalRedis('SIGCONT');
    await client.close();
    await locks.close();
    await receiver.close();
    await redis.destroy();
  }
});

let fleet: Fleet;
before(async () => {
  fleet = await Fleet.start(1, { LOCKSTEP_LOCK_TTL_MS: String(TTL_MS), LOCKSTEP_RETRY_SCHEDULE: '0.05' });
});
after(() => fleet?.stop());

test('lock taken away from an emitter (key deleted): its request is aborted, recorded as aborted, and retried', async (t) => {
  const { receiver, client, redis } = fleet;
  receiver.set('stuck', { hang: true });
  const target = await client.createReceiver({ url: receiver.url('stuck'), timeoutMs: 60_000 });
  const { id } = await client.post('stuck.event', {});
  await waitFor('the request to hang at the receiver', () => receiver.inFlightTo('stuck') === 1);
  receiver.set('stuck', { status: 200 }); // for the retry; the hanging request keeps hanging
  const admin = redis.client();
  await admin.del(fleet.redisLockKey(target.id));
  const deletedAt = Date.now();
  // at least one: the retry may follow the aborted attempt between two polls (it waits for no backoff)
  await waitFor('the aborted attempt to be recorded', async () => ((await client.message(id)).deliveries[0]?.attempts.length ?? 0) >= 1, 5000);
  const abortSeen = receiver.for('stuck')[0];
  t.diagnostic(`receiver saw the socket close ${(abortSeen?.end ?? 0) - deletedAt} ms after the key was deleted`);
  assert.equal(abortSeen?.aborted, true);
  assert.ok((abortSeen?.end ?? Infinity) - deletedAt <= TTL_MS, 'aborted at the next renewal, before the deadline');
  const [attempt] = (await client.message(id)).deliveries[0]?.attempts ?? [];
  assert.equal(attempt?.statusCode, null);
  assert.match(attempt?.error ?? '', /lost/);

  await waitFor('the retry to deliver', async () => (await client.message(id)).deliveries[0]?.status === 'delivered', 10_000);
  assert.ok((receiver.for('stuck').at(-1)?.fence ?? 0) > (abortSeen?.fence ?? 0), 'the retry went out under a new fence');
  admin.disconnect();
});
