// Cluster balance: the fan-out backlog (N receivers, every message to all of them) drained by 2
// emitters on a Redis Cluster of 3 masters. Figure: the Redis commands each master ran during the
// drain (INFO commandstats, Lua's inner commands included), as the largest distance from their mean
// in %. Target: every master within ±20 % of the mean. The store runs with 8 shard groups per master
// (LOCKSTEP_REDIS_SHARD_GROUPS; docs/architecture.md, "Redis: single, Sentinel, Cluster").
// On 2 cores a cluster cannot show more throughput than one Redis: the rate is in the notes only.
import type { RedisCluster } from '../../test/support/cluster.js';
import type { BackendScenario } from '../context.js';
import { fanOutSize, queueFanOut } from '../enqueue.js';
import { CommandDelta, commandCounts } from '../redis-stats.js';
import { limitRow } from '../report.js';
import { Stack } from '../stack.js';
import { measureDrain } from './drain.js';

const MASTERS = 3;
const EMITTERS = 2;
/** Shard groups: 8 per master, so that receivers spread evenly (docs/architecture.md, "Redis Cluster"). */
const GROUPS = 8 * MASTERS;

/** Commands per master port, read together. */
async function countsPerMaster(cluster: RedisCluster): Promise<Map<number, Map<string, number>>> {
  return new Map(
    await Promise.all(
      cluster.nodes.map(async (node) => {
        const client = node.client();
        try {
          return [node.port, await commandCounts(client)] as const;
        } finally {
          client.disconnect();
        }
      }),
    ),
  );
}

export const clusterBalance: BackendScenario = async (ctx, backend) => {
  const size = fanOutSize(ctx.sizes);
  const { receivers, total } = size;
  const stack = await Stack.startOnCluster(backend, MASTERS, { LOCKSTEP_REDIS_SHARD_GROUPS: String(GROUPS) });
  const cluster = stack.ha.cluster as RedisCluster;
  try {
    const client = await stack.api();
    await queueFanOut(client, ctx.receiver, size, 'bench.cluster');
    const before = await countsPerMaster(cluster);
    const drain = await measureDrain(ctx, stack, EMITTERS, total, 'cluster-balance');
    const after = await countsPerMaster(cluster);
    const perMaster = [...after].map(([port, counts]) => ({ port, total: new CommandDelta(before.get(port) ?? new Map<string, number>(), counts).total }));
    const all = perMaster.reduce((sum, master) => sum + master.total, 0);
    const mean = all / perMaster.length;
    const spread = Math.max(...perMaster.map((master) => Math.abs(master.total - mean) / mean)) * 100;
    const delivered = drain.stats.count;
    return [
      limitRow({
        scenario: `cluster balance: fan-out, ${receivers.toLocaleString('en-US')} receivers, ${total.toLocaleString('en-US')} deliveries, ${MASTERS} masters`,
        backend,
        figure: spread,
        unit: '% from the mean (worst master)',
        baseline: null,
        baselineLabel: '',
        target: 'each master within ±20 %',
        limit: 20,
        redisPerMessage: all / delivered,
        notes:
          `${drain.partial}commands per master: ${perMaster.map((master) => `${master.port} ${master.total}`).join(', ')}; ` +
          `${(all / delivered).toFixed(1)} commands per delivery; ${drain.rate.toFixed(0)} deliveries/s (2 cores: not a throughput figure)`,
      }),
    ];
  } finally {
    await stack.stop();
  }
};
