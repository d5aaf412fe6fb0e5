import { parseDelivery } from './attempts.js';
import { as, Batch } from './batch.js';
import type { Keys } from './keys.js';
import type { StoreRedis } from './scripts.js';
import type { Attempt, DeadLetter, Page } from './types.js';

/** Cursor of the next page: `<died at, ms>.<message id>` of this page's last entry. */
export type DeadLetterPage = Page<DeadLetter>;

export class DeadLetterStore {
  constructor(
    private readonly redis: StoreRedis,
    private readonly keys: Keys,
    /** Dead letters that died longer ago than this are gone with their messages. */
    private readonly retentionMs: number,
  ) {}

  /** The receiver's dead letters, most recent death first (ties: newest message first). */
  async list(receiverId: string, limit: number, cursor: string | undefined): Promise<DeadLetterPage> {
    const k = this.keys.of(receiverId);
    // entries past retention are left out here and trimmed when the receiver's next delivery dies or is replayed
    const since = Date.now() - this.retentionMs;
    const entries = await this.page(k.dead(receiverId), limit + 1, cursor, since);
    const shown = entries.slice(0, limit);
    const batch = new Batch(this.redis.pipeline());
    const read = shown.map((entry) => ({
      ...entry,
      message: batch.add((p) => p.hmget(k.message(entry.messageId), 'eventType', 'createdAt', k.deliveryField(receiverId)), as.texts),
    }));
    await batch.run();
    // the last attempt's field follows from the state's attempt count (lua/includes/keys.lua)
    const last = new Batch(this.redis.pipeline());
    const withLast = read.map(({ messageId, diedAt, message }) => {
      const [eventType, createdAt, state] = message.value;
      const attempts = state ? parseDelivery(state).attempts : 0;
      return {
        messageId,
        diedAt,
        eventType,
        createdAt,
        attempts,
        lastAttempt: last.add((p) => p.hget(k.message(messageId), k.attemptField(receiverId, attempts)), as.text),
      };
    });
    await last.run();
    const data = withLast.flatMap(({ messageId, diedAt, eventType, createdAt, attempts, lastAttempt }): DeadLetter[] => {
      if (!createdAt) return []; // its message expired a moment before the entry's retention ran out
      return [
        {
          messageId,
          eventType: eventType ?? '',
          messageCreatedAt: createdAt,
          diedAt: new Date(diedAt).toISOString(),
          attempts,
          lastAttempt: lastAttempt.value ? (JSON.parse(lastAttempt.value) as Attempt) : null,
        },
      ];
    });
    const lastShown = shown.at(-1);
    return { data, next: entries.length > limit && lastShown ? `${lastShown.diedAt}.${lastShown.messageId}` : null };
  }

  /** Up to `count` entries of the dead set after the cursor and not before `since`, in (score desc, member desc) order. */
  private async page(key: string, count: number, cursor: string | undefined, since: number): Promise<{ messageId: string; diedAt: number }[]> {
    if (!cursor) return pairs(await this.redis.zrevrangebyscore(key, '+inf', since, 'WITHSCORES', 'LIMIT', 0, count));
    const [score, member] = [cursor.slice(0, cursor.indexOf('.')), cursor.slice(cursor.indexOf('.') + 1)];
    const batch = new Batch(this.redis.pipeline());
    // equal scores come in reverse lexical order too
    const sameScore = batch.add((p) => p.zrevrangebyscore(key, score, Math.max(Number(score), since)), as.list);
    const lower = batch.add((p) => p.zrevrangebyscore(key, `(${score}`, since, 'WITHSCORES', 'LIMIT', 0, count), as.list);
    await batch.run();
    const rest = sameScore.value.filter((id) => id < member).map((messageId) => ({ messageId, diedAt: Number(score) }));
    return [...rest, ...pairs(lower.value)].slice(0, count);
  }
}

function pairs(withScores: string[]): { messageId: string; diedAt: number }[] {
  const result: { messageId: string; diedAt: number }[] = [];
  for (let i = 0; i + 1 < withScores.length; i += 2) result.push({ messageId: withScores[i] as string, diedAt: Number(withScores[i + 1]) });
  return result;
}
