import type { Redis } from 'ioredis';
import { connectRedis } from '../redis.js';
import { DeadLetterStore } from './dead-letters.js';
import { DeliveryStore } from './deliveries.js';
import { DrainQueue } from './drain-queue.js';
import { Keys } from './keys.js';
import { MessageStore } from './messages.js';
import { ReceiverStore } from './receivers.js';
import { defineStoreCommands } from './scripts.js';

export * from './types.js';
export type { ReceiverPage } from './receivers.js';
export type { DeadLetterPage } from './dead-letters.js';

/** Everything kept in Redis, behind one connection (plus BullMQ's own). */
export class Store {
  readonly keys: Keys;
  readonly redis: Redis;
  readonly receivers: ReceiverStore;
  readonly messages: MessageStore;
  readonly deliveries: DeliveryStore;
  readonly deadLetters: DeadLetterStore;
  readonly drains: DrainQueue;

  constructor(readonly redisUrl: string, prefix: string, options: { disableAfterDeadMs: number }) {
    this.keys = new Keys(prefix);
    // No offline queue, and a command caught in flight by a disconnect is not retried until Redis
    // is back: while Redis is unreachable a command fails at once (the API answers 503, an emitter
    // backs off) instead of hanging its caller.
    const redis = defineStoreCommands(connectRedis(redisUrl, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0 }));
    redis.on('error', () => {}); // surfaced through failed commands and /readyz
    this.redis = redis;
    this.receivers = new ReceiverStore(redis, this.keys);
    this.messages = new MessageStore(redis, this.keys, this.receivers);
    this.deliveries = new DeliveryStore(redis, this.keys, options.disableAfterDeadMs);
    this.deadLetters = new DeadLetterStore(redis, this.keys);
    this.drains = new DrainQueue(redis, this.keys);
  }

  /** Connects, retrying until Redis answers or `timeoutMs` passes (then says what to check). */
  async connect(timeoutMs = 30_000): Promise<void> {
    const giveUpAt = Date.now() + timeoutMs;
    await this.redis.connect().catch(() => {});
    while (this.redis.status !== 'ready') {
      if (Date.now() > giveUpAt) throw new Error(`cannot reach Redis at ${this.redisUrl}: is it running, and is LOCKSTEP_REDIS_URL right?`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async ping(): Promise<boolean> {
    return this.redis.ping().then(() => true, () => false);
  }

  async close(): Promise<void> {
    await this.drains.close();
    this.redis.disconnect();
  }
}
