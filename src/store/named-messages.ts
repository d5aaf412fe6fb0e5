import { as, Batch } from './batch.js';
import type { Keys } from './keys.js';
import type { StoreRedis } from './scripts.js';

/**
 * The keys and arguments of messages a script changes without choosing them itself
 * (delete-receiver.lua, replay.lua): per message its hash and its idempotency key (the hash again
 * when it has none), and its id and that key's name. A script never builds a key (Redis Cluster
 * routes it by the keys it is given), so the caller reads each message's `idem` first: it never
 * changes after accept, so the read cannot go stale, and the script checks everything else.
 * `k` is the receivers' shard group: only a message's home copy holds `idem`, in its home group.
 */
export async function namedMessages(redis: StoreRedis, k: Keys, messageIds: readonly string[]): Promise<{ keys: string[]; args: string[] }> {
  const batch = new Batch(redis.pipeline());
  const idems = messageIds.map((id) => batch.add((p) => p.hget(k.message(id), 'idem'), as.text));
  if (messageIds.length > 0) await batch.run();
  const keys: string[] = [];
  const args: string[] = [];
  messageIds.forEach((id, i) => {
    const name = idems[i]?.value ?? '';
    keys.push(k.message(id), name ? k.idempotency(name) : k.message(id));
    args.push(id, name);
  });
  return { keys, args };
}
