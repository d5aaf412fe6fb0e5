import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { RedisCluster } from '../support/cluster.js';
import { FAULT_TEST_ENV, startRoles, type ApiClient } from '../support/lockstep.js';
import { TestReceiver } from '../support/receiver.js';
import type { RedisServer } from '../support/redis.js';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

/**
 * Lockstep on a real Redis Cluster (3 masters, 1 replica each), the Redis lock backend on the same
 * cluster. Today every key shares the hash tag of the prefix (`{lockstep}`), so one master holds
 * them all: the cluster gives failover, not more throughput (README, "Running Redis for
 * production"). `CLUSTER FAILOVER` of that master under load loses nothing that got a 202.
 */
describe('Redis Cluster: delivery, and CLUSTER FAILOVER under load', () => {
  let cluster: RedisCluster;
  let receiver: TestReceiver;
  let roles: Awaited<ReturnType<typeof startRoles>>;
  let client: ApiClient;

  before(async () => {
    cluster = await RedisCluster.start(3, 1);
    receiver = await TestReceiver.start();
    roles = await startRoles({ ...FAULT_TEST_ENV, LOCKSTEP_REDIS_CLUSTER: cluster.seeds }, 2);
    client = roles.client;
  });

  after(async () => {
    await roles?.stop();
    await receiver?.close();
    await cluster?.destroy();
  });

  test('every message reaches every receiver, first attempts in acceptance order, no overlap', async () => {
    const names = ['p', 'q', 'r'];
    for (const name of names) await client.createReceiver({ url: receiver.url(name), eventTypes: ['order.*'] });
    const accepted: string[] = [];
    for (let n = 0; n < 60; n++) accepted.push((await client.post('order.placed', { n })).id);
    for (const name of names) {
      await receiver.waitForDelivered(accepted, 30_000, name);
      const firsts = [...new Set(receiver.for(name).map((request) => request.messageId))];
      assert.deepEqual(firsts, accepted, `${name}: first attempts in acceptance order`);
    }
    assert.deepEqual(receiver.overlaps, []);
  });

  test('CLUSTER FAILOVER of the master holding the keys, under continuous intake: every 202 delivered, no overlap', async (t) => {
    receiver.set('f', { delayMs: 5 });
    await client.createReceiver({ url: receiver.url('f'), eventTypes: ['f.*'] });
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
    const { from, to } = await cluster.failoverMasterOf('{lockstep}');
    t.diagnostic(`master of {lockstep} moved from port ${from} to ${to}`);
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

  test('an evicting master anywhere in the cluster is refused at start, even one holding none of the keys', async () => {
    const keys = await cluster.keysPerNode();
    let idle: ReturnType<RedisServer['client']> | undefined;
    for (const node of cluster.nodes) {
      const client = node.client();
      if (!idle && keys.get(node.port) === 0 && /role:master/.test(await client.info('replication'))) idle = client;
      else client.disconnect();
    }
    assert.ok(idle, 'a master without keys');
    await idle.config('SET', 'maxmemory-policy', 'allkeys-lru');
    try {
      const result = spawnSync(process.execPath, [CLI, 'api'], {
        env: { PATH: process.env.PATH ?? '', LOCKSTEP_API_TOKEN: 'test-token-0123456789', LOCKSTEP_PORT: '0', LOCKSTEP_REDIS_CLUSTER: cluster.seeds },
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
