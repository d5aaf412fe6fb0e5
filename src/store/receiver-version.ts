import type { Keys } from './keys.js';
import type { StoreRedis } from './scripts.js';

/**
 * With several shard groups a receiver's scripts bump its group's receivers version (a script
 * reaches one slot): the version intake's directory follows (keys.ts) is bumped here, after the
 * change and before it is acknowledged. With one group the scripts bumped it already.
 */
export async function announceReceiverChange(redis: StoreRedis, keys: Keys): Promise<void> {
  if (keys.groupKeys.length > 1) await redis.incr(keys.receiversVersion);
}
