import type { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import { connectRedis } from '../redis.js';
import { DeadLetterStore } from './dead-letters.js';
import { DeliveryStore } from './deliveries.js';
import { DrainQueue } from './drain-queue.js';
import { EventTypeStore } from './event-types.js';
import { FleetReports } from './fleet-reports.js';
import { Keys } from './keys.js';
import { MessageStore } from './messages.js';
import { QueueStats } from './queue-stats.js';
import { ReceiverKeys } from './receiver-keys.js';
import { ReceiverStore } from './receivers.js';
import { checkEvictionPolicy } from './redis-policy.js';
import { defineStoreCommands } from './scripts.js';

export * from './types.js';
export type { ReceiverPage } from './receivers.js';
export type { Rotation } from './receiver-keys.js';
export type { EventTypeChanges, StoredEventType } from './event-types.js';
export type { DeadLetterPage } from './dead-letters.js';
export type { QueueState } from './queue-stats.js';

/** 30 days: `LOCKSTEP_RETENTION_MS`'s default. */
export const DEFAULT_RETENTION_MS = 30 * 86_400_000;

export interface StoreOptions {
  /** A receiver whose deliveries keep ending dead this long (no success between) is disabled. */
  disableAfterDeadMs: number;
  /** A message whose deliveries are all final is removed this long after (default 30 days). */
  retentionMs?: number;
}

/** Everything kept in Redis, behind one connection (plus BullMQ's own). */
export class Store {
  // Only src/store talks to Redis: the rest of the code goes through the stores below.
  private readonly keys: Keys;
  private readonly redis: Redis;
  readonly receivers: ReceiverStore;
  readonly receiverKeys: ReceiverKeys;
  readonly eventTypes: EventTypeStore;
  readonly messages: MessageStore;
  readonly deliveries: DeliveryStore;
  readonly deadLetters: DeadLetterStore;
  readonly drains: DrainQueue;
  readonly queueStats: QueueStats;
  readonly fleet: FleetReports;

  constructor(
    readonly redisUrl: string,
    prefix: string,
    options: StoreOptions,
  ) {
    this.keys = new Keys(prefix);
    // No offline queue, and a command caught in flight by a disconnect is not retried until Redis
    // is back: while Redis is unreachable a command fails at once (the API answers 503, an emitter
    // backs off) instead of hanging its caller.
    const redis = defineStoreCommands(connectRedis(redisUrl, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0 }));
    redis.on('error', () => {}); // surfaced through failed commands and /readyz
    this.redis = redis;
    const retentionMs = options.retentionMs ?? DEFAULT_RETENTION_MS;
    this.receivers = new ReceiverStore(redis, this.keys, retentionMs);
    this.receiverKeys = new ReceiverKeys(redis, this.keys);
    this.eventTypes = new EventTypeStore(redis, this.keys);
    this.messages = new MessageStore(redis, this.keys, this.receivers, retentionMs);
    this.deliveries = new DeliveryStore(redis, this.keys, options.disableAfterDeadMs, retentionMs);
    this.deadLetters = new DeadLetterStore(redis, this.keys, retentionMs);
    this.drains = new DrainQueue(redis, this.keys);
    this.queueStats = new QueueStats(redis, this.keys, retentionMs);
    this.fleet = new FleetReports(redis, this.keys);
  }

  /** Connects, retrying until Redis answers or `timeoutMs` passes (then says what to check). */
  async connect(timeoutMs = 30_000): Promise<void> {
    const giveUpAt = Date.now() + timeoutMs;
    await this.redis.connect().catch(() => {});
    while (this.redis.status !== 'ready') {
      if (Date.now() > giveUpAt) throw new Error(`cannot reach Redis at ${this.redisUrl}: is it running, and is LOCKSTEP_REDIS_URL right?`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await this.queueStats.countOnce();
  }

  /** Refuses a Redis that may evict keys unless allowed (then returns the banner's warning): see redis-policy.ts. */
  checkEvictionPolicy(allowEvicting: boolean, log: Logger): Promise<string | undefined> {
    return checkEvictionPolicy(this.redis, this.redisUrl, allowEvicting, log);
  }

  async ping(): Promise<boolean> {
    return this.redis.ping().then(
      () => true,
      () => false,
    );
  }

  async close(): Promise<void> {
    await this.drains.close();
    this.redis.disconnect();
  }
}
