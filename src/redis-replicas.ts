import { REDIS_UNAVAILABLE, redisFailure } from './dependency-errors.js';
import { LockstepError } from './errors.js';
import { Cluster } from 'ioredis';
import { connectRedis, type RedisClient, type RedisTarget } from './redis.js';

/** How long one `WAIT` may take before the write it covers is answered 503. */
export const REPLICA_WAIT_MS = 1000;

/**
 * Makes sure writes the master has already answered have reached `minReplicas` replicas before
 * Lockstep acknowledges them (`LOCKSTEP_REDIS_MIN_REPLICAS`): Redis replicates asynchronously, so a
 * failover can promote a replica that never saw a write the master confirmed.
 *
 * One round is `INCR <mark>` then `WAIT minReplicas timeout` on a connection of its own. `WAIT`
 * counts the replicas that have this connection's last write; that write comes after every write
 * already answered on any connection (the replication stream is one ordered log), so a round started
 * after a caller's reply covers it, whatever connection the caller wrote on. `WAIT` blocks its
 * connection, which is why it is not the store's: nothing else queues behind it. Concurrent callers
 * share the next round (group commit): one round trip to the replicas per burst, not per request.
 * A store with several shard groups on a Redis Cluster writes to several masters: a round then
 * runs on each group's mark (`markKeys`, one per group, each in its group's slot), so it reaches
 * every master the groups live on.
 */
export class ReplicaBarrier {
  private connection: RedisClient | undefined;
  /** The round sent, if any: it may have left before a new caller's write was answered. */
  private inFlight: Promise<void> | undefined;
  /** The round that starts when `inFlight` ends; new callers join it. */
  private queued: Promise<void> | undefined;

  constructor(
    private readonly target: RedisTarget,
    private readonly markKeys: string | readonly string[],
    readonly minReplicas: number,
    private readonly timeoutMs = REPLICA_WAIT_MS,
  ) {}

  async connect(): Promise<void> {
    if (this.minReplicas === 0 || this.connection) return;
    // No offline queue and no retry of a command caught by a disconnect: a round during a failover
    // fails at once (503) instead of waiting for the new master, which may lack the caller's write.
    const connection = connectRedis(this.target, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
    connection.on('error', () => {}); // surfaced through failed rounds
    this.connection = connection;
    await connection.connect().catch(() => {}); // reconnects by itself; a round before that answers 503
  }

  /** Resolves once every write answered before this call is on `minReplicas` replicas; else a 503 LockstepError. */
  confirm(): Promise<void> {
    if (this.minReplicas === 0) return Promise.resolve();
    this.queued ??= this.nextRound();
    return this.queued;
  }

  close(): void {
    this.connection?.disconnect();
    this.connection = undefined;
  }

  private nextRound(): Promise<void> {
    const round: Promise<void> = (this.inFlight ?? Promise.resolve())
      .catch(() => {})
      .then(() => {
        this.queued = undefined;
        this.inFlight = round;
        return this.waitForReplicas();
      })
      .finally(() => {
        if (this.inFlight === round) this.inFlight = undefined;
      });
    return round;
  }

  private async waitForReplicas(): Promise<void> {
    const connection = this.connection;
    if (!connection) throw new Error('ReplicaBarrier: call connect() first');
    let acknowledged: number;
    try {
      const marks = typeof this.markKeys === 'string' ? [this.markKeys] : this.markKeys;
      const counts = await Promise.all(
        marks.map(async (mark) => {
          const replies = (await connection.pipeline().incr(mark).wait(this.minReplicas, this.timeoutMs).exec()) ?? [];
          const failed = replies.find(([error]) => error)?.[0];
          if (failed) throw failed;
          return Number(replies[1]?.[1] ?? 0);
        }),
      );
      acknowledged = Math.min(...counts);
    } catch (error) {
      // A cluster's failover moved a mark's slot: a pipeline that meets MOVED is not redirected, so
      // without a fresh slot map every later round would go to the old master too and fail.
      if (connection instanceof Cluster && /^(MOVED|ASK) /.test((error as Error).message)) connection.refreshSlotsCache();
      throw redisFailure(error as Error) ?? unavailable(`the replica check failed: ${(error as Error).message}`);
    }
    if (acknowledged < this.minReplicas)
      throw unavailable(`WAIT: ${acknowledged} of ${this.minReplicas} replicas confirmed the write within ${this.timeoutMs} ms`);
  }
}

function unavailable(why: string): LockstepError {
  return new LockstepError('LOCKSTEP_REDIS_UNAVAILABLE', 503, REDIS_UNAVAILABLE, { cause: new Error(why) });
}
