import { Cluster, Redis, type RedisOptions } from 'ioredis';

export interface HostPort {
  host: string;
  port: number;
}

/** A master found through Redis Sentinel (`LOCKSTEP_REDIS_SENTINELS`). */
export interface SentinelTarget {
  sentinels: HostPort[];
  /** The master's name in the sentinels' configuration (`LOCKSTEP_REDIS_SENTINEL_NAME`). */
  name: string;
  password?: string;
  sentinelPassword?: string;
}

/** A Redis Cluster (`LOCKSTEP_REDIS_CLUSTER`): any of its nodes; the client learns the rest. */
export interface ClusterTarget {
  cluster: HostPort[];
  /** Where to reach a node, by the address it announces (`LOCKSTEP_REDIS_CLUSTER_NAT`: Docker, NAT). */
  natMap?: Record<string, HostPort>;
  password?: string;
}

/** Where Lockstep's Redis is: a `redis://` URL, a master that Sentinel names, or a Cluster. */
export type RedisTarget = string | SentinelTarget | ClusterTarget;

/** A connection to a single Redis (URL, Sentinel) or to a Cluster: the same commands. */
export type RedisClient = Redis | Cluster;

/**
 * One place that opens Redis connections, so every part (store, drain queue, emitter's worker,
 * Redis lock backend) gets the same resilient settings: reconnect forever with a capped backoff,
 * and let BullMQ's blocking commands wait.
 *
 * With Sentinel, each (re)connect asks the sentinels for the current master and checks the node's
 * role (a demoted master is left): every connection follows a failover without a restart (a dead
 * master closes the connection; a demoted one has its clients closed by Redis). Not ioredis's
 * `failoverDetector`: its `+switch-master` handler disconnects the connector even while a reconnect
 * is under way (the master just died), and that reconnect then fails for good ("Connection is
 * closed", status `end`): intake and delivery stayed down after a kill -9 of the master.
 */
export function connectRedis(target: RedisTarget, options: RedisOptions = {}): RedisClient {
  const common: RedisOptions = {
    maxRetriesPerRequest: null,
    retryStrategy: (times) => Math.min(50 * times, 1000),
    lazyConnect: false,
    ...options,
  };
  if (typeof target === 'string') return new Redis(target, common);
  if ('cluster' in target) {
    const { lazyConnect, enableOfflineQueue, ...perNode } = common;
    return new Cluster(target.cluster, {
      lazyConnect: lazyConnect ?? false,
      enableOfflineQueue: enableOfflineQueue ?? true,
      clusterRetryStrategy: (times) => Math.min(100 * times, 1000),
      // a fail-fast client (no retries per request) also gives an unreachable node up after a few
      // tries, ~0.4 s, not ioredis's 16 (~1.7 s): a master down is a 503 at once, as one Redis down is
      ...(perNode.maxRetriesPerRequest === 0 ? { maxRedirections: 4 } : {}),
      ...(target.natMap ? { natMap: target.natMap } : {}),
      redisOptions: { ...perNode, ...(target.password ? { password: target.password } : {}) },
    });
  }
  return new Redis({
    sentinels: target.sentinels,
    name: target.name,
    role: 'master',
    sentinelRetryStrategy: (times) => Math.min(100 * times, 1000),
    ...(target.password ? { password: target.password } : {}),
    ...(target.sentinelPassword ? { sentinelPassword: target.sentinelPassword } : {}),
    ...common,
  });
}

/** The target for banners, logs and errors: a URL without its password, or the sentinels. */
export function describeRedis(target: RedisTarget): string {
  if (typeof target !== 'string' && 'cluster' in target) return `cluster via ${target.cluster.map(({ host, port }) => `${host}:${port}`).join(',')}`;
  if (typeof target !== 'string') return `master "${target.name}" via sentinels ${target.sentinels.map(({ host, port }) => `${host}:${port}`).join(',')}`;
  try {
    const parsed = new URL(target);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return target;
  }
}
