import { Cluster } from 'ioredis';
import { LockstepError } from '../errors.js';
import type { Logger } from '../logger.js';
import { connectRedis, describeRedis, type RedisClient, type RedisTarget } from '../redis.js';
import { ReplicaBarrier } from '../redis-replicas.js';
import { DeadLetterStore } from './dead-letters.js';
import { DeliveryStore } from './deliveries.js';
import { DrainQueue } from './drain-queue.js';
import { EventTypeStore } from './event-types.js';
import { FleetReports } from './fleet-reports.js';
import { NoticeConfirmations } from './notice-confirmations.js';
import { ChannelNotices } from './notices.js';
import { Keys } from './keys.js';
import { MessageIndex } from './message-index.js';
import { MessageStore } from './messages.js';
import { SchemaMigration } from './migrate.js';
import { QueueStats } from './queue-stats.js';
import { ReceiverKeys } from './receiver-keys.js';
import { ReceiverStore } from './receivers.js';
import { checkEvictionPolicy } from './redis-policy.js';
import { redisBoundary } from './redis-boundary.js';
import { defineStoreCommands } from './scripts.js';
import { TenantStore } from './tenants.js';
import { TokenStore } from './tokens.js';

export * from './types.js';
export type { ReceiverPage } from './receivers.js';
export type { Rotation } from './receiver-keys.js';
export type { ChannelNotices } from './notices.js';
export type { Catalog, EventTypeChanges, StoredEventType } from './event-types.js';
export type { DeadLetterPage } from './dead-letters.js';
export type { QueueState } from './queue-stats.js';
export type { MessageListFilter } from './message-index.js';
export type { TokenRecord } from './tokens.js';

/** 30 days: `LOCKSTEP_RETENTION_MS`'s default. */
export const DEFAULT_RETENTION_MS = 30 * 86_400_000;

export interface StoreOptions {
  /** A receiver whose deliveries keep ending dead this long (no success between) is disabled. */
  disableAfterDeadMs: number;
  /** A message whose deliveries are all final is removed this long after (default 30 days). */
  retentionMs?: number;
  /** Writes are acknowledged only once this many replicas have them (`LOCKSTEP_REDIS_MIN_REPLICAS`; default 0). */
  minReplicas?: number;
  /** Shard groups (keys.ts; `LOCKSTEP_REDIS_SHARD_GROUPS`, default 1). */
  shardGroups?: number;
}

/** Everything kept in Redis, behind one connection (plus BullMQ's own). */
export class Store {
  // Only src/store talks to Redis: the rest of the code goes through the stores below.
  private readonly keys: Keys;
  private readonly redis: RedisClient;
  readonly receivers: ReceiverStore;
  readonly receiverKeys: ReceiverKeys;
  readonly eventTypes: EventTypeStore;
  readonly messages: MessageStore;
  readonly deliveries: DeliveryStore;
  readonly deadLetters: DeadLetterStore;
  readonly drains: DrainQueue;
  readonly queueStats: QueueStats;
  readonly fleet: FleetReports;
  readonly messageIndex: MessageIndex;
  readonly tenants: TenantStore;
  readonly tokens: TokenStore;
  /** Confirms that acknowledged writes reached the replicas; see redis-replicas.ts. */
  private readonly replicas: ReplicaBarrier;
  /** Converts a Redis written by an earlier version at connect: migrate.ts. */
  private readonly migration: SchemaMigration;
  /** The API's wait for emitters to take a config change in: a subscriber made on the first change. */
  private readonly confirmations: NoticeConfirmations;
  /** An emitter's subscriber to config-change notices, made on first use (the API needs none). */
  private keyChanges: ChannelNotices | undefined;
  /** An emitter's subscriber to notices of work for idle receivers, made on first use. */
  private work: ChannelNotices | undefined;

  constructor(
    readonly redisTarget: RedisTarget,
    prefix: string,
    options: StoreOptions,
  ) {
    this.keys = new Keys(prefix, options.shardGroups ?? 1);
    // No offline queue, and a command caught in flight by a disconnect is not retried until Redis
    // is back: while Redis is unreachable a command fails at once (the API answers 503, an emitter
    // backs off) instead of hanging its caller.
    const failFast = { enableOfflineQueue: false, maxRetriesPerRequest: 0 };
    const redis = defineStoreCommands(connectRedis(redisTarget, { ...failFast, lazyConnect: true }));
    redis.on('error', () => {}); // surfaced through failed commands and /readyz
    this.redis = redis;
    const retentionMs = options.retentionMs ?? DEFAULT_RETENTION_MS;
    this.replicas = new ReplicaBarrier(
      redisTarget,
      // the plain prefix's slot (tenants, tokens, the catalog) and each group's
      [...new Set([this.keys.replicationMark, ...this.keys.groupKeys.map((group) => group.replicationMark)])],
      options.minReplicas ?? 0,
    );
    this.confirmations = new NoticeConfirmations(redisTarget, this.keys.keysHeard, redis, this.keys.keysChanged);
    const receivers = new ReceiverStore(redis, this.keys, retentionMs, this.replicas, this.confirmations);
    // each part behind the boundary: a Redis failure leaves the store as a LockstepError
    this.receivers = redisBoundary(receivers);
    this.receiverKeys = redisBoundary(new ReceiverKeys(redis, this.keys, this.replicas, this.confirmations));
    this.eventTypes = redisBoundary(new EventTypeStore(redis, this.keys, this.replicas));
    this.messages = redisBoundary(new MessageStore(redis, this.keys, receivers, retentionMs, this.replicas));
    this.deliveries = redisBoundary(new DeliveryStore(redis, this.keys, options.disableAfterDeadMs, retentionMs));
    this.deadLetters = redisBoundary(new DeadLetterStore(redis, this.keys, retentionMs));
    this.drains = redisBoundary(new DrainQueue(redis, this.keys, connectRedis(redisTarget, failFast)));
    this.queueStats = redisBoundary(new QueueStats(redis, this.keys, retentionMs));
    this.fleet = redisBoundary(new FleetReports(redis, this.keys));
    this.messageIndex = redisBoundary(new MessageIndex(redis, this.keys));
    this.tenants = redisBoundary(new TenantStore(redis, this.keys, this.replicas));
    this.tokens = redisBoundary(new TokenStore(redis, this.keys, this.replicas));
    this.migration = redisBoundary(new SchemaMigration(redis, this.keys));
  }

  /**
   * Connects, retrying until Redis answers or `timeoutMs` passes (then says what to check), and
   * converts a Redis written by an earlier version (migrate.ts): resolves to the number of
   * messages this process converted, undefined when there was nothing to do.
   */
  async connect(log?: Logger, timeoutMs = 30_000): Promise<number | undefined> {
    const giveUpAt = Date.now() + timeoutMs;
    // said once, after a moment, so that a start waiting for Redis is not silent for the whole wait
    const waiting = setTimeout(() => log?.warn(`Redis at ${describeRedis(this.redisTarget)} does not answer yet; trying for ${timeoutMs / 1000} s`), 2000);
    try {
      await this.redis.connect().catch(() => {});
      while (this.redis.status !== 'ready') {
        if (Date.now() > giveUpAt)
          throw new LockstepError(
            'LOCKSTEP_REDIS_UNAVAILABLE',
            503,
            `cannot reach Redis at ${describeRedis(this.redisTarget)}: is it running, and is ${typeof this.redisTarget === 'string' ? 'LOCKSTEP_REDIS_URL' : 'LOCKSTEP_REDIS_SENTINELS (and LOCKSTEP_REDIS_SENTINEL_NAME)'} right?`,
          );
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      clearTimeout(waiting);
    }
    await this.replicas.connect();
    // Before anything reads a message. The queue counters come from the receivers' sets, which
    // the migration leaves as they are, so their count may go before or after it.
    const converted = await this.migration.run();
    await this.queueStats.countOnce();
    return converted;
  }

  /** Refuses a Redis that may evict keys unless allowed (then returns the banner's warning): see redis-policy.ts. */
  checkEvictionPolicy(allowEvicting: boolean, log: Logger): Promise<string | undefined> {
    return checkEvictionPolicy(this.redis, this.redisTarget, allowEvicting, log);
  }

  /**
   * The notices of receivers' config changes (key rotations, PATCHes: replace-config.lua), so a
   * window claimed before one stops before its next attempt and the next claim brings the new keys.
   * Each notice taken in is confirmed, so the change's answer can wait for it (notice-confirmations.ts).
   */
  watchKeyChanges(): ChannelNotices {
    this.keyChanges ??= new ChannelNotices(this.redisTarget, this.keys.keysChanged, {
      heard: (token) => {
        this.redis.publish(this.keys.keysHeard, token).catch(() => {}); // unconfirmed: the change's answer waits its bound
      },
    });
    return this.keyChanges;
  }

  /** The notices accept.lua sends when an idle receiver's queue gets work: a turn lingering on it claims at once. */
  watchWork(): ChannelNotices {
    this.work ??= new ChannelNotices(this.redisTarget, this.keys.work);
    return this.work;
  }

  /**
   * True when Redis answers. On a cluster, for the slot of the plain prefix and of every group: a
   * master down leaves its groups' receivers without a store, and a PING would reach a live one.
   */
  async ping(): Promise<boolean> {
    const redis = this.redis;
    const marks = [this.keys.replicationMark, ...this.keys.groupKeys.map((group) => group.replicationMark)];
    return Promise.all(redis instanceof Cluster ? marks.map((mark) => redis.exists(mark)) : [redis.ping()]).then(
      () => true,
      () => false,
    );
  }

  async close(): Promise<void> {
    await this.drains.close();
    this.replicas.close();
    this.confirmations.close();
    this.keyChanges?.close();
    this.work?.close();
    this.redis.disconnect();
  }
}
