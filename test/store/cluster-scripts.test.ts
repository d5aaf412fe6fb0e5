import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defineStoreCommands, storePipeline } from '../../src/store/scripts.js';
import { RedisCluster } from '../support/cluster.js';

// ioredis marks a script as loaded on a connection once it has written it, and when it sends a
// Redis Cluster pipeline again (MOVED here; TRYAGAIN or CLUSTERDOWN during a failover) it drops
// its own fallback to EVAL: an EVALSHA sent again to a node without the script came back NOSCRIPT,
// and intake answered 500 while a master was down. The store's pipelines run such a script again.
test('a pipelined script sent again after MOVED to a node that lost it runs, not NOSCRIPT', async () => {
  const cluster = await RedisCluster.start(3, 0);
  const redis = defineStoreCommands(cluster.client());
  try {
    // keys on two masters: `moving` (its slot empty) and `marker` on one, `other` on another
    const tags = Array.from({ length: 200 }, (_, i) => `{t${i}}`);
    const owners = await Promise.all(tags.map(async (tag) => ({ tag, port: await cluster.masterPortOf(`wake:${tag}`) })));
    const [moving] = owners;
    const marker = owners.find(({ tag, port }) => port === moving?.port && tag !== moving.tag);
    const other = owners.find(({ port }) => port !== moving?.port);
    assert.ok(moving && marker && other);
    // the script runs once on each of the two masters: ioredis counts it loaded on both connections
    assert.equal(await redis.wakeLater(`wake:${marker.tag}`, 'rcv_a', 1000), 1);
    assert.equal(await redis.wakeLater(`wake:${other.tag}`, 'rcv_a', 1000), 1);
    await cluster.ask(other.port, 'script', 'flush');
    await cluster.handSlotTo(`wake:${moving.tag}`, other.port);

    const pipeline = storePipeline(redis);
    pipeline.wakeLater(`wake:${moving.tag}`, 'rcv_b', 1000);
    const replies = await pipeline.exec();
    assert.deepEqual(replies, [[null, 1]]);
    assert.equal(await redis.zcard(`wake:${moving.tag}`), 1, 'written once, on the new owner');
    assert.equal(await cluster.ask(other.port, 'dbsize'), 2, 'the new owner holds it');
  } finally {
    redis.disconnect();
    await cluster.destroy();
  }
});
