import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RedisCluster } from '../support/cluster.js';
import { startInProcess } from '../support/in-process.js';
import { TcpProxy } from '../support/tcp-proxy.js';

// LOCKSTEP_REDIS_CLUSTER_NAT on a real 3-master cluster whose nodes are reached only through a
// proxy each (as behind Docker or NAT: the nodes announce addresses the process must not use).
// Every connection follows the map: with the proxies cut off, a request waits; healed, 202.
test('a Redis Cluster reached through LOCKSTEP_REDIS_CLUSTER_NAT: every connection goes where the map says', async () => {
  const cluster = await RedisCluster.start(3, 0);
  const proxies = await Promise.all(cluster.nodes.map((node) => TcpProxy.start(node.port)));
  const nat = cluster.nodes.map((node, i) => `127.0.0.1:${node.port}=127.0.0.1:${proxies[i]?.port}`).join(',');
  const { running, api } = await startInProcess('api', {
    LOCKSTEP_REDIS_CLUSTER: `127.0.0.1:${proxies[0]?.port}`,
    LOCKSTEP_REDIS_CLUSTER_NAT: nat,
    LOCKSTEP_REDIS_SHARD_GROUPS: '6',
  });
  try {
    const post = async (): Promise<number> => (await api.request('POST', '/v1/messages', { eventType: 'nat.test', payload: {} })).status;
    assert.equal(await post(), 202);
    // cut: a request waits on the proxies (nothing went around them) until they are healed
    for (const proxy of proxies) proxy.blackhole('reset');
    let settled = false;
    const during = post().finally(() => {
      settled = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.equal(settled, false, 'no connection went around the proxies');
    for (const proxy of proxies) proxy.restore();
    assert.ok([202, 503].includes(await during), 'answered once healed');
    let status = 0;
    for (let tries = 0; tries < 100 && status !== 202; tries++) {
      status = await post();
      if (status !== 202) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(status, 202, 'back through the proxies once they are healed');
  } finally {
    await running.stop();
    await Promise.all(proxies.map((proxy) => proxy.close()));
    await cluster.destroy();
  }
});
