import { as, Batch } from './batch.js';
import type { StoreRedis } from './scripts.js';

/**
 * Reads that span the shard groups (keys.ts): each group keeps its own index of what it holds, and
 * a listing merges them. With one group these are the plain reads.
 */

/** Up to `count` members after `cursor` of lex-ordered sorted sets (score 0), merged in lex order. */
export async function lexPage(redis: StoreRedis, indexes: readonly string[], cursor: string | undefined, count: number): Promise<string[]> {
  const from = cursor ? `(${cursor}` : '-';
  if (indexes.length === 1) return redis.zrangebylex(indexes[0] as string, from, '+', 'LIMIT', 0, count);
  const batch = new Batch(redis.pipeline());
  const pages = indexes.map((index) => batch.add((p) => p.zrangebylex(index, from, '+', 'LIMIT', 0, count), as.list));
  await batch.run();
  return pages
    .flatMap((page) => page.value)
    .sort()
    .slice(0, count);
}

/** Every member of each of the sorted sets (the groups' receiver indexes, for the rare full scans). */
export async function allMembers(redis: StoreRedis, indexes: readonly string[]): Promise<string[]> {
  if (indexes.length === 1) return redis.zrange(indexes[0] as string, 0, -1);
  const batch = new Batch(redis.pipeline());
  const sets = indexes.map((index) => batch.add((p) => p.zrange(index, 0, -1), as.list));
  await batch.run();
  return sets.flatMap((set) => set.value);
}
