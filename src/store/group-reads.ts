import type { StoreRedis } from './scripts.js';

/**
 * Reads that span the shard groups (keys.ts): each group keeps its own index of what it holds, and
 * a listing merges them. One command per group, each on its own (a Redis Cluster routes each to
 * its group's node; a pipeline must stay on one). With one group these are the plain reads.
 */

/** Up to `count` members after `cursor` of lex-ordered sorted sets (score 0), merged in lex order. */
export async function lexPage(redis: StoreRedis, indexes: readonly string[], cursor: string | undefined, count: number): Promise<string[]> {
  const from = cursor ? `(${cursor}` : '-';
  const pages = await Promise.all(indexes.map((index) => redis.zrangebylex(index, from, '+', 'LIMIT', 0, count)));
  return pages.length === 1 ? (pages[0] as string[]) : pages.flat().sort().slice(0, count);
}

/** Every member of each of the sorted sets (the groups' receiver indexes, for the rare full scans). */
export async function allMembers(redis: StoreRedis, indexes: readonly string[]): Promise<string[]> {
  return (await Promise.all(indexes.map((index) => redis.zrange(index, 0, -1)))).flat();
}

/** Up to `count` members before `before` (all, undefined) down to `floor` (a lex bound) of lex-ordered sorted sets, merged newest first. */
export async function lexPageDesc(redis: StoreRedis, indexes: readonly string[], before: string | undefined, floor: string, count: number): Promise<string[]> {
  const from = before ? `(${before}` : '+';
  const pages = await Promise.all(indexes.map((index) => redis.zrevrangebylex(index, from, floor, 'LIMIT', 0, count)));
  return pages.length === 1 ? (pages[0] as string[]) : pages.flat().sort().reverse().slice(0, count);
}
