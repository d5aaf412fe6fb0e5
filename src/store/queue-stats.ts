import { idTimestamp } from '../ids.js';
import type { Keys } from './keys.js';
import type { StoreRedis } from './scripts.js';

/** Deliveries by state across every receiver, and how old the oldest of each kind is. */
export interface QueueState {
  /** pending: not attempted yet; retrying: attempted, waiting for another attempt; dead: dead letters. */
  depth: { pending: number; retrying: number; dead: number };
  oldestAgeS: { pending: number; retrying: number };
}

/** How many receivers one call of the dead-letter trim handles at most (bounded work per call). */
const TRIM_BATCH = 100;
/**
 * The trim's candidates are read by this process's clock, and the script decides by Redis's: the
 * read reaches this much further, so a clock behind Redis's only delays a trim by what it exceeds.
 */
const CLOCK_MARGIN_MS = 60_000;

/**
 * The queues at a glance, from the counters and "heads" the scripts keep (lua/includes/stats.lua):
 * five commands per shard group whatever the number of receivers, instead of a scan of each one.
 */
export class QueueStats {
  constructor(
    private readonly redis: StoreRedis,
    private readonly keys: Keys,
    private readonly retentionMs: number,
  ) {}

  /** Counts the statistics from every receiver once, if they were never kept (new or upgraded installation). */
  async countOnce(): Promise<void> {
    for (const g of this.keys.groupKeys) {
      while ((await this.redis.hexists(g.stats, 'since')) === 0) {
        // the script counts the receivers it is named: -1 when the group's set changed since this read
        const ids = await this.redis.zrange(g.receivers, 0, -1);
        const keys = [...g.statsKeys, g.receivers, ...ids.flatMap((id) => [g.receiver(id), g.queue(id), g.retries(id), g.dead(id)])];
        if ((await this.redis.countStats(keys.length, ...keys, ...ids)) !== -1) break;
      }
    }
  }

  /** The sums of every shard group's counters (keys.ts), and the oldest of their heads. */
  async read(): Promise<QueueState> {
    const groups = await Promise.all(this.keys.groupKeys.map((g) => this.readGroup(g)));
    const sum = (pick: (state: QueueState) => number): number => groups.reduce((total, state) => total + pick(state), 0);
    const oldest = (pick: (state: QueueState) => number): number => Math.max(0, ...groups.map(pick));
    return {
      depth: { pending: sum((g) => g.depth.pending), retrying: sum((g) => g.depth.retrying), dead: sum((g) => g.depth.dead) },
      oldestAgeS: { pending: oldest((g) => g.oldestAgeS.pending), retrying: oldest((g) => g.oldestAgeS.retrying) },
    };
  }

  private async readGroup(k: Keys): Promise<QueueState> {
    const [counts, pendingHead, retryingHead] = await Promise.all([
      this.redis.hmget(k.stats, 'queued', 'retrying', 'dead'),
      this.redis.zrange(k.heads('pending'), 0, 0, 'WITHSCORES'),
      this.redis.zrange(k.heads('retrying'), 0, 0, 'WITHSCORES'),
    ]);
    const [queued, retrying, dead] = counts.map((count) => Math.max(0, Number(count ?? 0))) as [number, number, number];
    const [pendingAge, retryingAge] = await Promise.all([this.ageOf(k, pendingHead), this.ageOf(k, retryingHead)]);
    return { depth: { pending: Math.max(0, queued - retrying), retrying, dead }, oldestAgeS: { pending: pendingAge, retrying: retryingAge } };
  }

  /**
   * Drops dead letters past the retention from receivers whose oldest one is that old, a bounded
   * batch at a time; returns how many receivers it trimmed.
   */
  async trimExpiredDeadLetters(maxBatches = 10): Promise<number> {
    let trimmed = 0;
    for (const g of this.keys.groupKeys) {
      for (let round = 0; round < maxBatches; round++) {
        const due = await this.redis.zrangebyscore(g.heads('dead'), '-inf', Date.now() - this.retentionMs + CLOCK_MARGIN_MS, 'LIMIT', 0, TRIM_BATCH);
        if (due.length === 0) break;
        const keys = [...g.statsKeys, ...due.map((id) => g.dead(id))];
        const batch = await this.redis.trimDead(keys.length, ...keys, this.retentionMs, ...due);
        trimmed += batch;
        if (batch < TRIM_BATCH) break;
      }
    }
    return trimmed;
  }

  /** Seconds since the head's delivery was accepted (its message id carries the time); 0 when none. */
  private async ageOf(k: Keys, [receiverId, seq]: string[]): Promise<number> {
    if (!receiverId || !seq) return 0;
    const [messageId] = await this.redis.zrangebyscore(k.queue(receiverId), seq, seq, 'LIMIT', 0, 1);
    return messageId ? Math.max(0, (Date.now() - idTimestamp(messageId)) / 1000) : 0;
  }
}
