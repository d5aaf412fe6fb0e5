import { Cluster } from 'ioredis';
import { ConfigError } from '../config/error.js';
import type { Logger } from '../logger.js';
import { describeRedis, type RedisClient, type RedisTarget } from '../redis.js';

/**
 * Lockstep keeps accepted messages in Redis and nowhere else: a Redis allowed to evict keys under
 * memory pressure would drop them without a word. So start-up refuses any `maxmemory-policy` but
 * `noeviction` (then a full Redis refuses writes, intake answers 503, and nothing accepted is lost),
 * unless the operator overrides it knowingly.
 */
/** Returns a warning for the banner when an evicting Redis is allowed, else undefined. */
export async function checkEvictionPolicy(redis: RedisClient, target: RedisTarget, allowEvicting: boolean, log: Logger): Promise<string | undefined> {
  // On a cluster, every master: one evicting master is enough to lose what it holds.
  const nodes = redis instanceof Cluster ? redis.nodes('master') : [redis];
  const policies = await Promise.all(nodes.map((node) => readPolicy(node, target))).catch((error: unknown) => {
    if (allowEvicting) return ['unknown'];
    throw error;
  });
  const policy = policies.find((each) => each !== 'noeviction') ?? 'noeviction';
  if (policy === 'noeviction') return undefined;
  const why = `Redis at ${describeRedis(target)} has maxmemory-policy "${policy}": when it fills up it would silently delete keys, including accepted messages and their deliveries.`;
  if (allowEvicting) {
    log.warn(
      { maxmemoryPolicy: policy, code: 'LOCKSTEP_EVICTING_REDIS' },
      `DANGER: ${why} Starting anyway because LOCKSTEP_ALLOW_EVICTING_REDIS=true; accepted messages may be lost.`,
    );
    return `Redis maxmemory-policy is ${policy}: it may EVICT accepted messages (LOCKSTEP_ALLOW_EVICTING_REDIS=true); set it to noeviction`;
  }
  throw new ConfigError(
    `${why} Set it to noeviction (redis.conf: "maxmemory-policy noeviction", or at once: redis-cli CONFIG SET maxmemory-policy noeviction; ` +
      'on a managed Redis, its parameter group), then start again. To start anyway and accept that messages may be lost, set LOCKSTEP_ALLOW_EVICTING_REDIS=true.',
  );
}

/**
 * From INFO, which managed services (that often disable CONFIG) still answer; CONFIG GET when an
 * ACL refuses INFO. A Redis that answers neither cannot be checked: that is a configuration
 * problem too, not a stack trace.
 */
async function readPolicy(redis: RedisClient, target: RedisTarget): Promise<string> {
  const fromInfo = await redis.info('memory').then(
    (info) => /^maxmemory_policy:(\S+)/m.exec(info)?.[1],
    () => undefined,
  );
  if (fromInfo) return fromInfo;
  const fromConfig = await redis.config('GET', 'maxmemory-policy').then(
    (reply) => (reply as string[])[1],
    (error: Error) => error,
  );
  if (typeof fromConfig === 'string') return fromConfig;
  throw new ConfigError(
    `cannot read the maxmemory-policy of Redis at ${describeRedis(target)} (INFO and CONFIG GET refused${fromConfig instanceof Error ? `: ${fromConfig.message.slice(0, 120)}` : ''}): ` +
      'allow Lockstep\'s Redis user "INFO" (ACL: +info), or, if you know the policy is noeviction, set LOCKSTEP_ALLOW_EVICTING_REDIS=true to start without the check.',
  );
}
