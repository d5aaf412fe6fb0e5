import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Cluster } from 'ioredis';
import type { ClaimedDelivery, Holder } from '../../src/store/deliveries.js';
import { Keys } from '../../src/store/keys.js';
import { previousLayout, SCHEMA, schemaKey } from '../../src/store/migrate.js';
import { defineStoreCommands } from '../../src/store/scripts.js';
import { RedisCluster } from '../support/cluster.js';
import { LockstepProcess } from '../support/lockstep.js';
import { attempt, kept, shown, start, state, writeOld, type OldMessage } from '../support/old-layout.js';
import { useStore } from '../support/store.js';

const PREFIX = 'mig';
const old = previousLayout(PREFIX);
const keys = new Keys(PREFIX);
/** The field of a refused attempt as the migration names it (only the scripts write them). */
const refused = (receiverId: string, index: number, n: number): string => `${Keys.fields.refused}${receiverId}:legacy:${index}:${n}`;
const RETENTION_LEFT_MS = 600_000;

/**
 * Issue 13's upgrade on a real redis-server: messages written in the previous layout (message
 * hash, deliveries hash, attempts lists) by raw commands, converted at connect into their one
 * hash with every delivery, attempt history, open count and expiry; a second run changes nothing.
 */
describe('migration to storage schema 2', () => {
  const db = useStore(PREFIX);

  const startHere = (): Promise<number | undefined> => start(db.server.url, PREFIX);
  const writeHere = (message: OldMessage): Promise<void> => writeOld(db.raw.redis, PREFIX, message);
  const hash = (id: string): Promise<Record<string, string>> => db.raw.redis.hgetall(db.raw.keys.message(id));
  const oldKeysLeft = async (): Promise<string[]> => [...(await db.raw.redis.keys(`${PREFIX}:dlv:*`)), ...(await db.raw.redis.keys(`${PREFIX}:att:*`))];

  // the previous version's data, one case each
  const delivered = 'msg_delivered';
  const retrying = 'msg_retrying';
  const twoReceivers = 'msg_two';
  const legacy = 'msg_legacy';
  const longHistory = [1, 2, 3].map((n) => attempt('rcv_r', n));
  const lastNine = Array.from({ length: 9 }, (_, i) => attempt('rcv_r', 12 + i));
  const refusedLate = attempt('rcv_r', 21, 0); // a stale fence's record: not one of the state's 20
  const staleTwo = attempt('rcv_b', 2, 1);
  const acceptedTwo = attempt('rcv_b', 2, 2);

  test('a fresh Redis gets the schema at its first connect, with nothing to convert', async () => {
    assert.equal(await db.raw.redis.get(schemaKey(PREFIX)), SCHEMA);
    assert.equal(await startHere(), undefined, 'a later start reads only the schema key');
  });

  test('the first start converts every message into its one hash and deletes the old keys', async () => {
    await db.raw.redis.del(schemaKey(PREFIX)); // as a Redis the previous version wrote
    const idemUntil = String(Date.now() + 86_400_000);
    await writeHere({
      id: delivered,
      fields: { open: '0', idem: 'order-1', idemUntil, tp: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
      states: { rcv_a: state('delivered', 1) },
      lists: { rcv_a: [attempt('rcv_a', 1)] },
      ttlMs: RETENTION_LEFT_MS,
    });
    await db.raw.redis.set(db.raw.keys.idempotency('order-1'), delivered, 'PX', RETENTION_LEFT_MS);
    // 20 attempts: the first 3, the marker, then the last 10 places (one of them a refused record's)
    await writeHere({
      id: retrying,
      fields: { open: '1', tenant: 'acme' },
      states: { rcv_r: state('retrying', 20) },
      lists: { rcv_r: [...longHistory, '{"omitted":8}', ...lastNine, refusedLate] },
    });
    // stored before `open`: a refused attempt 2 (stale fence) recorded before the accepted one
    await writeHere({
      id: twoReceivers,
      states: { rcv_a: state('delivered', 1), rcv_b: state('retrying', 2) },
      lists: { rcv_a: [attempt('rcv_a', 1)], rcv_b: [attempt('rcv_b', 1), staleTwo, acceptedTwo] },
    });
    // stored before per-delivery lists: every receiver's first attempt in the message's own list
    await writeHere({
      id: legacy,
      fields: { open: '0', legacy: '1' },
      states: { rcv_a: state('delivered', 2), rcv_b: state('dead', 1) },
      legacyList: [attempt('rcv_a', 1), attempt('rcv_b', 1)],
      lists: { rcv_a: [attempt('rcv_a', 2)] },
      ttlMs: RETENTION_LEFT_MS,
    });
    // a deliveries hash whose message expired a moment before: left alone, not counted
    await db.raw.redis.hset(old.deliveries('msg_gone'), 'rcv_a', state('delivered', 1));
    await db.raw.redis.zadd(db.raw.keys.dead('rcv_b'), Date.now(), legacy); // the dead set is the same in both layouts

    assert.equal(await startHere(), 4);
    assert.equal(await db.raw.redis.get(schemaKey(PREFIX)), SCHEMA);
    assert.deepEqual(await oldKeysLeft(), [old.deliveries('msg_gone')], 'no old key of a converted message is left');

    assert.deepEqual(await hash(delivered), {
      eventType: 'mig.event',
      payload: '{"n":1}',
      createdAt: '2026-01-01T00:00:00.000Z',
      receiverIds: 'rcv_a',
      open: '0',
      idem: 'order-1',
      idemUntil,
      tp: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      [keys.deliveryField('rcv_a')]: state('delivered', 1),
      [keys.attemptField('rcv_a', 1)]: kept(attempt('rcv_a', 1)),
    });
    const life = await db.raw.redis.pttl(db.raw.keys.message(delivered));
    assert.ok(life > RETENTION_LEFT_MS - 10_000 && life <= RETENTION_LEFT_MS, `a final message keeps its remaining life: ${life}`);
    assert.equal(await db.raw.redis.get(db.raw.keys.idempotency('order-1')), delivered, 'its idempotency key is unchanged');

    const long = await hash(retrying);
    assert.equal(long[keys.deliveryField('rcv_r')], state('retrying', 20));
    assert.equal(long.open, '1');
    assert.equal(long.tenant, 'acme');
    assert.deepEqual(
      Object.keys(long)
        .filter((field) => Keys.parseField(field)?.kind === 'attempt')
        .map((field) => Number(field.split(':')[2]))
        .sort((a, b) => a - b),
      [1, 2, 3, 12, 13, 14, 15, 16, 17, 18, 19, 20],
      'attempts 1-3 and those of the last 10 the old list had (11 gave its place to the refused record)',
    );
    assert.equal(long[keys.attemptField('rcv_r', 12)], kept(lastNine[0] as string));
    assert.equal(long[refused('rcv_r', 13, 21)], kept(refusedLate), 'the refused record is kept as refused, at its place in the old list');
    assert.ok(!Object.values(long).some((value) => value.includes('omitted')), 'no marker: omitted is derived');
    assert.equal(await db.raw.redis.pttl(db.raw.keys.message(retrying)), -1, 'an open message does not expire');

    const two = await hash(twoReceivers);
    assert.equal(two.open, '1', 'counted from the states: rcv_b is retrying');
    assert.equal(two[keys.attemptField('rcv_a', 1)], kept(attempt('rcv_a', 1)));
    assert.equal(two[keys.attemptField('rcv_b', 1)], kept(attempt('rcv_b', 1)));
    assert.equal(two[keys.attemptField('rcv_b', 2)], kept(acceptedTwo), 'of two records of attempt 2, the higher fence is the accepted one');
    assert.equal(two[refused('rcv_b', 2, 2)], kept(staleTwo));
    assert.equal(await db.raw.redis.pttl(db.raw.keys.message(twoReceivers)), -1);

    const whole = await hash(legacy);
    assert.equal(whole.legacy, undefined, 'no whole-message list is left to read');
    assert.deepEqual(
      [whole[keys.attemptField('rcv_a', 1)], whole[keys.attemptField('rcv_a', 2)], whole[keys.attemptField('rcv_b', 1)], whole[keys.deliveryField('rcv_b')]],
      [kept(attempt('rcv_a', 1)), kept(attempt('rcv_a', 2)), kept(attempt('rcv_b', 1)), state('dead', 1)],
    );
    assert.ok((await db.raw.redis.pttl(db.raw.keys.message(legacy))) > RETENTION_LEFT_MS - 10_000);
  });

  test('the converted messages read as before through the store: deliveries, histories, omitted counts, dead letters', async () => {
    const view = async (id: string): Promise<[string, string, number[], number][]> =>
      ((await db.store.messages.get(id))?.deliveries ?? []).map((d) => [d.receiverId, d.status, d.attempts.map((a) => a.attempt), d.omittedAttempts]);
    assert.deepEqual(await view(delivered), [['rcv_a', 'delivered', [1], 0]]);
    assert.deepEqual((await db.store.messages.get(delivered))?.deliveries[0]?.attempts, [shown(attempt('rcv_a', 1))], 'every field of an attempt kept');
    assert.deepEqual(
      await view(retrying),
      [['rcv_r', 'retrying', [1, 2, 3, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21], 7]],
      'the refused record is history too; 20 attempts leave 7 out',
    );
    assert.equal((await db.store.messages.get(retrying))?.tenantId, 'acme');
    assert.deepEqual(await view(twoReceivers), [
      ['rcv_a', 'delivered', [1], 0],
      ['rcv_b', 'retrying', [1, 2, 2], 0],
    ]);
    assert.deepEqual(
      (await db.store.messages.get(twoReceivers))?.deliveries[1]?.attempts.map((a) => a.fence),
      [1, 1, 2],
      'both requests numbered 2 were sent: both are shown, in the order they started',
    );
    assert.deepEqual(await view(legacy), [
      ['rcv_a', 'delivered', [1, 2], 0],
      ['rcv_b', 'dead', [1], 0],
    ]);
    const [letter] = (await db.store.deadLetters.list('rcv_b', 10, undefined)).data;
    assert.deepEqual([letter?.messageId, letter?.attempts, letter?.lastAttempt], [legacy, 1, shown(attempt('rcv_b', 1))]);
  });

  test('a second run changes nothing, and a start after it reads only the schema key', async () => {
    const first = await Promise.all([delivered, retrying, twoReceivers, legacy].map(hash));
    await db.raw.redis.del(schemaKey(PREFIX)); // as if a process had stopped before setting it
    assert.equal(await startHere(), 0);
    assert.deepEqual(await Promise.all([delivered, retrying, twoReceivers, legacy].map(hash)), first);
    assert.equal(await startHere(), undefined);
  });

  test('processes starting together convert each message once, past one SCAN batch', async () => {
    await db.raw.redis.del(schemaKey(PREFIX));
    const ids = Array.from({ length: 1200 }, (_, i) => `msg_many${String(i).padStart(4, '0')}`);
    const write = db.raw.redis.pipeline();
    for (const id of ids) {
      write.hset(db.raw.keys.message(id), { eventType: 'mig.event', payload: '{}', createdAt: '2026-01-01T00:00:00.000Z', receiverIds: 'rcv_a', open: '1' });
      write.hset(old.deliveries(id), 'rcv_a', state('pending', 0));
    }
    await write.exec();
    const counts = await Promise.all([startHere(), startHere(), startHere()]);
    assert.equal(
      counts.reduce<number>((sum, count) => sum + (count ?? 0), 0),
      ids.length,
      `every message converted by exactly one of them: ${counts.join(', ')}`,
    );
    assert.deepEqual(await oldKeysLeft(), [old.deliveries('msg_gone')]);
    assert.equal(await db.raw.redis.hget(db.raw.keys.message(ids[1199] as string), keys.deliveryField('rcv_a')), state('pending', 0));
  });

  test('a delivery converted mid-retry goes on where it was: attempt 21 next, and its success expires the message', async () => {
    const receiverId = await db.newReceiver();
    const id = 'msg_resume';
    const history = [1, 2, 3].map((n) => attempt(receiverId, n)).concat(Array.from({ length: 10 }, (_, i) => attempt(receiverId, 11 + i)));
    history.splice(3, 0, '{"omitted":7}');
    await writeHere({ id, fields: { open: '1' }, states: { [receiverId]: state('retrying', 20, 7) }, lists: { [receiverId]: history } });
    await db.raw.redis.zadd(db.raw.keys.queue(receiverId), 7, id);
    await db.raw.redis.zadd(db.raw.keys.retries(receiverId), 0, id); // due
    await db.raw.redis.del(schemaKey(PREFIX), db.raw.keys.stats); // the counters are counted again on connect
    assert.equal(await startHere(), 1);
    const holder: Holder = { fence: { service: 'redis', value: 1 } };
    const claim = await db.store.deliveries.claim(receiverId, holder, 1, 1000);
    const delivery = claim.kind === 'send' ? (claim.deliveries[0] as ClaimedDelivery) : assert.fail(`nothing claimed: ${claim.kind}`);
    assert.equal(delivery.attempt, 21, 'numbering goes on from the converted state');
    const sent = { ...shown(attempt(receiverId, 21)), statusCode: 200, startedAt: new Date().toISOString() };
    await db.store.deliveries.record(receiverId, holder, [{ delivery, attempt: sent, outcome: { kind: 'delivered' } }], { threshold: 1000, stepsMs: [1] });
    const [view] = (await db.store.messages.get(id))?.deliveries ?? [];
    assert.deepEqual(
      [view?.status, view?.attempts.map((a) => a.attempt), view?.omittedAttempts],
      ['delivered', [1, 2, 3, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21], 8],
    );
    const life = await db.raw.redis.pttl(db.raw.keys.message(id));
    assert.ok(life > 0, `final now: the message expires with its retention (${life} ms)`);
  });

  test('a message naming a receiver its caller did not list is left as it is: an old-version process wrote it meanwhile', async () => {
    const id = 'msg_changed';
    await writeHere({ id, states: { rcv_a: state('pending', 0), rcv_b: state('pending', 0) } });
    const scripts = defineStoreCommands(db.server.client());
    try {
      const keys = [db.raw.keys.message(id), old.deliveries(id), old.legacyAttempts(id), old.attempts(id, 'rcv_a')];
      assert.equal(await scripts.migrateMessage(keys.length, ...keys, 'rcv_a'), 'changed');
    } finally {
      scripts.disconnect();
    }
    assert.equal(await db.raw.redis.hlen(old.deliveries(id)), 2);
    assert.equal(await db.raw.redis.hget(db.raw.keys.message(id), keys.deliveryField('rcv_a')), null);
  });

  test('a process logs a conversion at info with its count; on a fresh Redis it only sets the schema (debug)', async () => {
    await writeOld(db.raw.redis, 'upgraded', { id: 'msg_upgraded', states: { rcv_a: state('pending', 0) } });
    const schemaLines = async (prefix: string): Promise<unknown[][]> => {
      const env = { LOCKSTEP_REDIS_URL: db.server.url, LOCKSTEP_REDIS_PREFIX: prefix, LOCKSTEP_LOG_LEVEL: 'debug' };
      const proc = await LockstepProcess.start('api', env);
      await proc.stop();
      return proc
        .json()
        .filter((line) => String(line.msg).includes('storage schema'))
        .map((line) => [line.level, line.msg]);
    };
    const [fresh, upgraded] = await Promise.all([schemaLines('fresh'), schemaLines('upgraded')]);
    assert.deepEqual(fresh, [[20, 'storage schema 2 set: no stored message to convert']], 'debug, not info');
    assert.deepEqual(upgraded, [[30, 'converted 1 stored messages to storage schema 2 (README "Upgrading")']]);
    assert.equal(await db.raw.redis.get(schemaKey('fresh')), SCHEMA);
  });
});

describe('migration on a Redis Cluster', () => {
  const prefix = '{mig}';
  let cluster: RedisCluster;
  let client: Cluster;
  before(async () => {
    cluster = await RedisCluster.start(3);
    client = new Cluster(cluster.nodes.map((node) => ({ host: '127.0.0.1', port: node.port })));
  });
  after(async () => {
    client?.disconnect();
    await cluster?.destroy();
  });

  test('every master is scanned: the messages under the hash tag are converted', async () => {
    const target = { cluster: cluster.nodes.map((node) => ({ host: '127.0.0.1', port: node.port })) };
    for (const id of ['msg_c1', 'msg_c2'])
      await writeOld(client, prefix, { id, fields: { open: '1' }, states: { rcv_a: state('retrying', 1) }, lists: { rcv_a: [attempt('rcv_a', 1)] } });
    assert.equal(await start(target, prefix), 2);
    assert.equal(await client.hget(new Keys(prefix).message('msg_c2'), keys.attemptField('rcv_a', 1)), kept(attempt('rcv_a', 1)));
    assert.equal(await client.exists(previousLayout(prefix).deliveries('msg_c1')), 0);
    assert.equal(await client.get(schemaKey(prefix)), SCHEMA);
  });
});
