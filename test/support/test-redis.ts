import type { RedisTarget } from '../../src/redis.js';
import { RedisCluster } from './cluster.js';
import { RedisServer } from './redis.js';

/**
 * The cluster lanes of scripts/test.mjs (LOCKSTEP_TEST_REDIS_CLUSTER set) run suites on a real
 * 3-master Redis Cluster instead of one redis-server, with the lane's LOCKSTEP_REDIS_SHARD_GROUPS.
 */
export const onCluster = Boolean(process.env.LOCKSTEP_TEST_REDIS_CLUSTER);

/** The Redis a suite's Lockstep runs on: both stop, start again, and hand out a client. */
export type TestRedis = RedisServer | RedisCluster;

export async function startTestRedis(): Promise<TestRedis> {
  return onCluster ? RedisCluster.start(3, 0) : RedisServer.start();
}

/** Lockstep's settings for it: the URL, or the cluster's nodes and the lane's shard groups. */
export function redisEnv(redis: TestRedis): Record<string, string> {
  if (redis instanceof RedisServer) return { LOCKSTEP_REDIS_URL: redis.url };
  const groups = process.env.LOCKSTEP_REDIS_SHARD_GROUPS;
  return { LOCKSTEP_REDIS_CLUSTER: redis.seeds, ...(groups ? { LOCKSTEP_REDIS_SHARD_GROUPS: groups } : {}) };
}

/** It as src/redis.ts takes it (a lock backend or store made inside the test process): the URL, or the nodes. */
export function redisTarget(redis: TestRedis): RedisTarget {
  return redis instanceof RedisServer ? redis.url : { cluster: redis.nodes.map((node) => ({ host: '127.0.0.1', port: node.port })) };
}

/** Lockstep's default key prefix there: on a cluster it gets a hash tag (src/config/index.ts). */
export function defaultPrefix(redis: TestRedis): string {
  return redis instanceof RedisServer ? 'lockstep' : '{lockstep}';
}

/** Its processes (every node's, on the cluster), for a test that pauses them. */
export function redisPids(redis: TestRedis): number[] {
  return (redis instanceof RedisServer ? [redis] : redis.nodes).map((server) => server.pid as number);
}
