import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Keys } from '../../src/store/keys.js';
import { RedisCluster } from '../support/cluster.js';
import { FAULT_TEST_ENV, startRoles, type ApiClient } from '../support/lockstep.js';
import { TestReceiver } from '../support/receiver.js';
import type { RedisServer } from '../support/redis.js';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

/** 8 per master: the receivers spread over every master (src/store/keys.ts). */
const GROUPS = 24;

/**
 * Lockstep on a real Redis Cluster (3 masters, 1 replica each) with 24 shard groups, the Redis lock
 * backend on the same cluster: every master holds receivers' keys, every message reaches every
 * receiver in acceptance order, and `CLUSTER FAILOVER` of the master of a receiver's group under
 * load loses nothing that got a 202 (README, "Running Redis for production").
 */
describe('Redis Cluster, sharded: delivery, and CLUSTER FAILOVER under load', () => {
  let cluster: RedisCluster;
  let receiver: TestReceiver;
  let roles: Awaited<ReturnType<typeof startRoles>>;
  let client: ApiClient;

  before(async () => {
    cluster = await RedisCluster.start(3, 1);
    receiver = await TestReceiver.start();
    // every 202 waits until a replica of each master it wrote to has it (src/redis-replicas.ts)
    roles = await startRoles(
      { ...FAULT_TEST_ENV, LOCKSTEP_REDIS_CLUSTER: cluster.seeds, LOCKSTEP_REDIS_SHARD_GROUPS: String(GROUPS), LOCKSTEP_REDIS_MIN_REPLICAS: '1' },
      2,
    );
    client = roles.client;
  });

  after(async () => {
    await roles?.stop();
    await receiver?.close();
    await cluster?.destroy();
  });

  test('receivers on every master; every message reaches every receiver, first attempts in acceptance order, no overlap', async () => {
    const names = ['p', 'q', 'r', 's', 't', 'u', 'v', 'w'];
    for (const name of names) await client.createReceiver({ url: receiver.url(name), eventTypes: ['order.*'] });
    const accepted: string[] = [];
    for (let n = 0; n < 60; n++) accepted.push((await client.post('order.placed', { n })).id);
    for (const name of names) {
      await receiver.waitForDelivered(accepted, 30_000, name);
      const firsts = [...new Set(receiver.for(name).map((request) => request.messageId))];
      assert.deepEqual(firsts, accepted, `${name}: first attempts in acceptance order`);
    }
    assert.deepEqual(receiver.overlaps, []);
    const banner = roles.processes[0]?.logs.find((line) => line.startsWith('  Redis ')) ?? '';
    assert.match(banner, /Redis\s+cluster via 127\.0\.0\.1:\d+/);
    assert.doesNotMatch(banner, /embedded/, 'a cluster is not the private redis-server');
    const keys = await cluster.keysPerMaster();
    assert.equal(keys.size, 3);
    assert.ok(
      [...keys.values()].every((count) => count > 0),
      `every master holds keys: ${JSON.stringify(Object.fromEntries(keys))}`,
    );
  });

  test('CLUSTER FAILOVER of the master of one receiver group, under continuous intake: every 202 delivered, no overlap', async (t) => {
    receiver.set('f', { delayMs: 5 });
    const target = await client.createReceiver({ url: receiver.url('f'), eventTypes: ['f.*'] });
    const accepted: string[] = [];
    const statuses = new Map<number, number>();
    let producing = true;
    const producer = (async () => {
      for (let n = 0; producing; n++) {
        const response = await client
          .request<{ id: string }>('POST', '/v1/messages', { eventType: 'f.event', payload: { n } })
          .catch(() => ({ status: 0, body: { id: '' } }));
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        if (response.status === 202) accepted.push(response.body.id);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const queue = new Keys('{lockstep}', GROUPS).of(target.id).queue(target.id);
    const { from, to } = await cluster.failoverMasterOf(queue);
    t.diagnostic(`master of ${queue} moved from port ${from} to ${to}`);
    const afterFailover = accepted.length;
    await new Promise((resolve) => setTimeout(resolve, 2000));
    producing = false;
    await producer;
    t.diagnostic(`answers: ${JSON.stringify(Object.fromEntries(statuses))}; ${accepted.length - afterFailover} accepted after the failover`);
    assert.ok(accepted.length > afterFailover, 'intake went on after the failover');
    await receiver.waitForDelivered(accepted, 30_000);
    t.diagnostic(`${accepted.length} accepted, all delivered; ${receiver.deliveredMoreThanOnce()} more than once`);
    assert.deepEqual(receiver.overlaps, []);
  });

  test('an evicting master anywhere in the cluster is refused at start, even one not holding the global keys', async () => {
    let idle: ReturnType<RedisServer['client']> | undefined;
    for (const node of cluster.nodes) {
      const client = node.client();
      // a master that does not own the plain prefix's slot answers MOVED
      const elsewhere = await client.get('{lockstep}:receivers:version').then(
        () => false,
        () => true,
      );
      if (!idle && elsewhere && /role:master/.test(await client.info('replication'))) idle = client;
      else client.disconnect();
    }
    assert.ok(idle, 'a master not holding the global keys');
    await idle.config('SET', 'maxmemory-policy', 'allkeys-lru');
    try {
      const result = spawnSync(process.execPath, [CLI, 'api'], {
        env: {
          PATH: process.env.PATH ?? '',
          LOCKSTEP_API_TOKEN: 'test-token-0123456789',
          LOCKSTEP_PORT: '0',
          LOCKSTEP_REDIS_CLUSTER: cluster.seeds,
          LOCKSTEP_REDIS_SHARD_GROUPS: String(GROUPS),
        },
        encoding: 'utf8',
        timeout: 30_000,
      });
      assert.equal(result.status, 2, result.stderr);
      assert.match(result.stderr, /configuration problem: .*maxmemory-policy "allkeys-lru"/);
    } finally {
      await idle.config('SET', 'maxmemory-policy', 'noeviction');
      idle.disconnect();
    }
  });
});
