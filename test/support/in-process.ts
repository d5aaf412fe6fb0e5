import { after, before } from 'node:test';
import { loadConfig, type Role } from '../../src/config/index.js';
import { createLogger } from '../../src/logger.js';
import { startLockstep, type Running } from '../../src/start.js';
import { ApiClient, TEST_TOKEN } from './lockstep.js';
import { freePort } from './ports.js';
import { TestReceiver } from './receiver.js';
import { RedisCluster } from './cluster.js';
import { RedisServer } from './redis.js';
import { onCluster } from './test-redis.js';

/** Lockstep started inside the test process (real Redis, real HTTP), for API-level tests. */
export async function startInProcess(role: Role, env: Record<string, string>): Promise<{ running: Running; api: ApiClient }> {
  const port = await freePort();
  // the sharded lane (scripts/test.mjs) runs the API-level suites with shard groups, as child processes get them
  const sharding = process.env.LOCKSTEP_REDIS_SHARD_GROUPS ? { LOCKSTEP_REDIS_SHARD_GROUPS: process.env.LOCKSTEP_REDIS_SHARD_GROUPS } : {};
  const config = loadConfig({ LOCKSTEP_PORT: String(port), LOCKSTEP_API_TOKEN: TEST_TOKEN, LOCKSTEP_LOG_LEVEL: 'warn', ...sharding, ...env });
  const running = await startLockstep(role, config, createLogger(config.logLevel));
  return { running, api: new ApiClient(running.url ?? `http://127.0.0.1:${port}`) };
}

export interface InProcessLockstep {
  api: ApiClient;
  redis: RedisServer;
  receiver: TestReceiver;
  /** Starts another Lockstep of `role` on the same Redis (e.g. an emitter); it is stopped first, after the suite. */
  startMore(role: Role, env: Record<string, string>): Promise<{ running: Running; api: ApiClient }>;
}

/**
 * Settings for a suite that watches deliveries end: the test receiver's loopback address allowed,
 * `retries` retries 50 ms apart, and no least wait after a timeout or a 429.
 */
export function quickRetries(retries = 1): Record<string, string> {
  return { LOCKSTEP_ALLOW_PRIVATE_NETWORKS: 'true', LOCKSTEP_RETRY_SCHEDULE: Array<string>(retries).fill('0.05').join(','), LOCKSTEP_THROTTLED_MIN_MS: '0' };
}

/**
 * For a suite: a real Redis, a recording receiver and an in-process Lockstep of `role`, started
 * before its tests and stopped after them. Call the returned function inside a test, or in a
 * `before` hook of a describe() (at a file's top level node 20 runs `before` hooks concurrently).
 */
export function useLockstep(role: Role, env: Record<string, string>): () => InProcessLockstep {
  let context: InProcessLockstep | undefined;
  let running: Running | undefined;
  const more: Running[] = [];
  let cluster: RedisCluster | undefined;
  before(async () => {
    // the cluster lane (scripts/test.mjs) runs the API-level suites on a real 3-master Redis Cluster
    cluster = onCluster ? await RedisCluster.start(3, 0) : undefined;
    const redis = cluster?.nodes[0] ?? (await RedisServer.start());
    const where: Record<string, string> = cluster ? { LOCKSTEP_REDIS_CLUSTER: cluster.seeds } : { LOCKSTEP_REDIS_URL: redis.url };
    const receiver = await TestReceiver.start();
    const started = await startInProcess(role, { ...where, ...env });
    running = started.running;
    const startMore = async (otherRole: Role, otherEnv: Record<string, string>): Promise<{ running: Running; api: ApiClient }> => {
      const other = await startInProcess(otherRole, { ...where, ...otherEnv });
      more.push(other.running);
      return other;
    };
    context = { api: started.api, redis, receiver, startMore };
  });
  after(async () => {
    for (const other of more.reverse()) await other.stop();
    await running?.stop();
    await context?.receiver.close();
    await (cluster ? cluster.destroy() : context?.redis.destroy());
  });
  return () => {
    if (!context) throw new Error('useLockstep: the suite has not started');
    return context;
  };
}
