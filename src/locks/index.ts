import type { Config } from '../config/index.js';
import type { RedisTarget } from '../redis.js';
import { RedisReceiverLocks } from './redis.js';
import type { ReceiverLocks } from './types.js';

export * from './types.js';

export { ttlProblem } from './cadence.js';

/** Builds the lock backend named by `LOCKSTEP_LOCK_BACKEND` for a process called `emitterId`. */
export async function createReceiverLocks(config: Config, redis: RedisTarget, emitterId: string): Promise<ReceiverLocks> {
  const options = { emitterId, ttlMs: config.lockTtlMs, prefix: config.redisPrefix };
  switch (config.lockBackend) {
    case 'redis':
      return new RedisReceiverLocks(redis, { ...options, minReplicas: config.redisMinReplicas, shardGroups: config.redisShardGroups });
    case 'etcd': {
      const { EtcdReceiverLocks } = await import('./etcd.js');
      return new EtcdReceiverLocks(config.etcdHosts, options);
    }
    case 'consul': {
      const { ConsulReceiverLocks } = await import('./consul.js');
      return new ConsulReceiverLocks(config.consulAddr, options);
    }
  }
}
