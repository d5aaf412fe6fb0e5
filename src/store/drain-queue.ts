import { Queue } from 'bullmq';
import type { RedisClient } from '../redis.js';
import type { Keys } from './keys.js';
import type { StoreRedis } from './scripts.js';

export const DRAIN_QUEUE = 'drain';

export interface DrainJob {
  receiverId: string;
}

/**
 * The BullMQ queue of "drain" jobs: at most one live job per receiver with work (deduplicated by
 * receiver id). A job that arrives while the receiver's job is active is kept and started once the
 * active one ends (`keepLastIfActive`), so a message accepted during a drain is never stranded.
 *
 * A turn that ends with work for later (a backoff, a retry not due, a busy receiver) does not
 * delay its job in BullMQ, whose delays are timed by each worker's wall clock: it notes the
 * receiver in the wake set, on Redis's clock, and the emitters promote due entries to jobs.
 */
export class DrainQueue {
  /** One queue per shard group (keys.ts: its prefix is the group's), group g at index g. */
  readonly queues: readonly Queue<DrainJob>[];
  private readonly connection: RedisClient;

  /**
   * The queue gets its own `connection` (same options as the store's): BullMQ defines its ~60
   * scripts on the connection it is given, and ioredis copies every defined script into each
   * pipeline it builds, so sharing would make each of the store's pipelines that much dearer.
   */
  constructor(
    private readonly store: StoreRedis,
    private readonly keys: Keys,
    connection: RedisClient,
  ) {
    this.connection = connection;
    this.connection.on('error', () => {}); // surfaced through failed commands, as on the store's
    this.queues = keys.groupKeys.map((group) => {
      const queue = new Queue<DrainJob>(DRAIN_QUEUE, {
        connection: this.connection,
        prefix: group.prefix,
        // A failed turn's job is retried at once: BullMQ would delay it by the failing worker's wall
        // clock, which a stepped clock turns into minutes for every emitter; the emitter pauses first.
        defaultJobOptions: { removeOnComplete: true, removeOnFail: 1000, attempts: 1_000_000, backoff: { type: 'fixed', delay: 0 } },
      });
      queue.on('error', () => {}); // surfaced through failed commands, as the connection's
      return queue;
    });
  }

  /** The queues' BullMQ prefixes (the shard groups'), for the emitters' workers. */
  get prefixes(): string[] {
    return this.keys.groupKeys.map((group) => group.prefix);
  }

  /** Makes sure each receiver has a drain job (no-op for a receiver that already has one). */
  async schedule(receiverIds: string[]): Promise<void> {
    if (receiverIds.length === 0) return;
    await Promise.all(
      [...this.keys.byGroup(receiverIds)].map(([group, ids]) =>
        this.queueIn(group).addBulk(
          ids.map((receiverId) => ({ name: 'drain', data: { receiverId }, opts: { deduplication: { id: receiverId, keepLastIfActive: true } } })),
        ),
      ),
    );
  }

  /**
   * Whether any drain job waits for an emitter (all their workers' slots are busy): one `LLEN` of
   * each group's wait list. BullMQ's `getWaitingCount` runs a script that also counts the paused, delayed,
   * prioritized and waiting-children sets (6 commands), which this queue never waits in for a slot.
   */
  async hasWaiting(): Promise<boolean> {
    return (await this.waitingByGroup()).some(Boolean);
  }

  /** Per shard group (index g), whether a drain job waits in its queue: one `LLEN` each. */
  async waitingByGroup(): Promise<boolean[]> {
    const counts = await Promise.all(this.queues.map((queue) => this.connection.llen(queue.toKey('wait'))));
    return counts.map((count) => count > 0);
  }

  /** Like `schedule`, but also for a receiver whose next turn waits in the wake set: now. */
  async wake(receiverIds: string[]): Promise<void> {
    if (receiverIds.length === 0) return;
    await this.store.zrem(this.keys.wake, ...receiverIds);
    await this.schedule(receiverIds);
  }

  /**
   * The receiver's next turn is due in `delayMs` (Redis's clock); the earliest noted wins. Due now,
   * it gets its job at once, at the back of the queue: the wake set is polled every 100 ms, which
   * cost a hot receiver ~50 ms after every turn.
   */
  async later(receiverId: string, delayMs: number): Promise<void> {
    if (delayMs <= 0) return this.schedule([receiverId]);
    await this.store.wakeLater(this.keys.wake, receiverId, Math.max(0, Math.round(delayMs)));
  }

  /**
   * Gives every receiver whose next turn is due a drain job; returns how many. One wake set for every
   * shard group: each emitter polls it ten times a second, which per group would cost that many times more.
   */
  async promoteDue(limit = 1000): Promise<number> {
    const due = await this.store.promoteDue(this.keys.wake, limit);
    await this.schedule(due);
    return due.length;
  }

  /** Which of `receiverIds` wait in the wake set (they have work but, by design, no job). */
  async waiting(receiverIds: string[]): Promise<Set<string>> {
    if (receiverIds.length === 0) return new Set();
    const scores = await this.store.zmscore(this.keys.wake, ...receiverIds);
    return new Set(receiverIds.filter((_, index) => scores[index] !== null));
  }

  /** Those of `receiverIds` that have neither a drain job (waiting or active) nor a wake-up noted. */
  async withoutJob(receiverIds: string[]): Promise<string[]> {
    const waiting = await this.waiting(receiverIds);
    const orphans: string[] = [];
    for (const id of receiverIds) if (!waiting.has(id) && !(await this.hasLiveJob(id))) orphans.push(id);
    return orphans;
  }

  /**
   * Whether the receiver's deduplication key names a job that will still run. A key left behind
   * by a job that is gone or finished (a kill -9 or a Redis restart at the wrong moment) would make
   * BullMQ drop every new job for the receiver as a duplicate, for good: such a key is removed.
   */
  private async hasLiveJob(receiverId: string): Promise<boolean> {
    const queue = this.queueOf(receiverId);
    const jobId = await queue.getDeduplicationJobId(receiverId);
    if (!jobId) return false;
    const job = await queue.getJob(jobId);
    const state = job ? await job.getState() : 'unknown';
    if (state !== 'completed' && state !== 'failed' && state !== 'unknown') return true;
    await queue.removeDeduplicationKey(receiverId);
    return false;
  }

  private queueOf(receiverId: string): Queue<DrainJob> {
    return this.queueIn(this.keys.of(receiverId));
  }

  private queueIn(group: Keys): Queue<DrainJob> {
    return this.queues[this.keys.groupKeys.indexOf(group)] as Queue<DrainJob>;
  }

  async close(): Promise<void> {
    // BullMQ leaves a connection it was given open. Closed first, and each queue's start-up (a
    // version check on that connection) let fail before the queue closes: a queue closed while it
    // still starts up drops its listeners, and the failure then escapes as an unhandled rejection.
    this.connection.disconnect();
    await Promise.allSettled(this.queues.map((queue) => queue.waitUntilReady()));
    await Promise.all(this.queues.map((queue) => queue.close()));
  }
}
