import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';

export const DRAIN_QUEUE = 'drain';

export interface DrainJob {
  receiverId: string;
}

/**
 * The BullMQ queue of "drain" jobs: at most one live job per receiver with work (deduplicated by
 * receiver id). A job that arrives while the receiver's job is active is kept and started once the
 * active one ends (`keepLastIfActive`), so a message accepted during a drain is never stranded.
 */
export class DrainQueue {
  readonly queue: Queue<DrainJob>;
  private readonly connection: Redis;

  /**
   * The queue gets its own connection (same options as `storeConnection`): BullMQ defines its ~60
   * scripts on the connection it is given, and ioredis copies every defined script into each
   * pipeline it builds, so sharing would make each of the store's pipelines that much dearer.
   */
  constructor(storeConnection: Redis, prefix: string) {
    this.connection = storeConnection.duplicate({ lazyConnect: false });
    this.connection.on('error', () => {}); // surfaced through failed commands, as on the store's
    this.queue = new Queue<DrainJob>(DRAIN_QUEUE, {
      connection: this.connection,
      prefix,
      defaultJobOptions: { removeOnComplete: true, removeOnFail: 1000, attempts: 1_000_000, backoff: { type: 'fixed', delay: 1000 } },
    });
  }

  /** Makes sure each receiver has a drain job (no-op for a receiver that already has one). */
  async schedule(receiverIds: string[]): Promise<void> {
    if (receiverIds.length === 0) return;
    await this.queue.addBulk(
      receiverIds.map((receiverId) => ({
        name: 'drain',
        data: { receiverId },
        opts: { deduplication: { id: receiverId, keepLastIfActive: true } },
      })),
    );
  }

  /** Like `schedule`, but also brings a job that waits out a backoff forward to now. */
  async wake(receiverId: string): Promise<void> {
    const jobId = await this.queue.getDeduplicationJobId(receiverId);
    const job = jobId ? await this.queue.getJob(jobId) : undefined;
    if (job && (await job.isDelayed()))
      await job.promote().catch(() => {}); // raced to active: fine
    else await this.schedule([receiverId]);
  }

  /** Those of `receiverIds` that have no drain job (waiting, delayed or active). */
  async withoutJob(receiverIds: string[]): Promise<string[]> {
    const orphans: string[] = [];
    for (const id of receiverIds) if (!(await this.queue.getDeduplicationJobId(id))) orphans.push(id);
    return orphans;
  }

  async close(): Promise<void> {
    await this.queue.close();
    this.connection.disconnect(); // BullMQ leaves a connection it was given open
  }
}
