import type { Keys } from './keys.js';
import type { StoreRedis } from './scripts.js';
import type { Attempt, DeadLetter, Page } from './types.js';

/** Cursor of the next page: `<died at, ms>.<message id>` of this page's last entry. */
export type DeadLetterPage = Page<DeadLetter>;

type StoredAttempt = Attempt & { receiverId: string };

export class DeadLetterStore {
  constructor(
    private readonly redis: StoreRedis,
    private readonly keys: Keys,
  ) {}

  /** The receiver's dead letters, most recent death first (ties: newest message first). */
  async list(receiverId: string, limit: number, cursor: string | undefined): Promise<DeadLetterPage> {
    const entries = await this.page(this.keys.dead(receiverId), limit + 1, cursor);
    const shown = entries.slice(0, limit);
    const pipeline = this.redis.pipeline();
    for (const { messageId } of shown) pipeline.hmget(this.keys.message(messageId), 'eventType', 'createdAt').lrange(this.keys.attempts(messageId), 0, -1);
    const replies = (await pipeline.exec()) ?? [];
    const data = shown.map(({ messageId, diedAt }, i): DeadLetter => {
      const [eventType, createdAt] = (replies[i * 2]?.[1] ?? []) as (string | null)[];
      const attempts = ((replies[i * 2 + 1]?.[1] ?? []) as string[])
        .map((json) => JSON.parse(json) as StoredAttempt)
        .filter((attempt) => attempt.receiverId === receiverId);
      const last = attempts.at(-1);
      const lastAttempt = last ? (({ receiverId: _, ...attempt }) => attempt)(last) : null;
      return { messageId, eventType: eventType ?? '', messageCreatedAt: createdAt ?? '', diedAt: new Date(diedAt).toISOString(), attempts: attempts.length, lastAttempt };
    });
    const lastShown = shown.at(-1);
    return { data, next: entries.length > limit && lastShown ? `${lastShown.diedAt}.${lastShown.messageId}` : null };
  }

  /** Up to `count` entries of the dead set after the cursor, in (score desc, member desc) order. */
  private async page(key: string, count: number, cursor: string | undefined): Promise<{ messageId: string; diedAt: number }[]> {
    if (!cursor) return pairs(await this.redis.zrevrangebyscore(key, '+inf', '-inf', 'WITHSCORES', 'LIMIT', 0, count));
    const [score, member] = [cursor.slice(0, cursor.indexOf('.')), cursor.slice(cursor.indexOf('.') + 1)];
    const [sameScore, lower] = (await this.redis
      .pipeline()
      .zrevrangebyscore(key, score, score) // equal scores come in reverse lexical order too
      .zrevrangebyscore(key, `(${score}`, '-inf', 'WITHSCORES', 'LIMIT', 0, count)
      .exec()) ?? [];
    const rest = ((sameScore?.[1] ?? []) as string[]).filter((id) => id < member).map((messageId) => ({ messageId, diedAt: Number(score) }));
    return [...rest, ...pairs((lower?.[1] ?? []) as string[])].slice(0, count);
  }
}

function pairs(withScores: string[]): { messageId: string; diedAt: number }[] {
  const result: { messageId: string; diedAt: number }[] = [];
  for (let i = 0; i + 1 < withScores.length; i += 2) result.push({ messageId: withScores[i] as string, diedAt: Number(withScores[i + 1]) });
  return result;
}
