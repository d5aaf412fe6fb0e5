import { randomBytes } from 'node:crypto';
import { readLua } from '../lua.js';
import { LockstepError } from '../errors.js';
import { connectRedis, type RedisClient, type RedisTarget } from '../redis.js';
import { ReplicaBarrier } from '../redis-replicas.js';
import { groupOf, groupPrefixes } from '../shard-groups.js';
import { sleep, withLinkedSignal } from '../lib/abort.js';
import { acquireWithin } from './acquire.js';
import { lockBackendError, lockCall } from './failure.js';
import { renewEveryMs, requestTimeoutMs } from './cadence.js';
import { monotonicNow } from './clock.js';
import { HeldLockRegistry } from './registry.js';
import { holdersByReceiver } from './slots.js';
import type { AcquireOptions, HeldLock, LockBackendOptions, LockHolder, LockStats, ReceiverLocks } from './types.js';

const ACQUIRE = readLua(import.meta.url, './lua/acquire.lua');
const RELEASE = readLua(import.meta.url, './lua/release.lua');
const RENEW = readLua(import.meta.url, './lua/renew.lua');

interface LockCommands {
  lockAcquire(lockKey: string, fencesKey: string, oldFenceKey: string, value: string, ttl: number, name: string, mark: '0' | '1'): Promise<number>;
  lockRelease(lockKey: string, owner: string, name: string, channel: string): Promise<number>;
  lockRenew(numberOfKeys: number, ...keysAndArgs: (string | number)[]): Promise<number[]>;
}

export interface RedisLockOptions extends LockBackendOptions {
  /** A lock, its fence and each renewal count only once this many replicas have them (default 0). */
  minReplicas?: number;
  /**
   * Shard groups the lock keys spread over, as the store's (src/shard-groups.ts; default 1): on a
   * Redis Cluster each lock's keys then sit in one of the groups' slots, not all on one master.
   */
  shardGroups?: number;
}

/**
 * Redis backend: a lock is `SET key "<session> <since>" NX PX ttl`; one heartbeat per process
 * renews every key this session holds with one script call every ttl/3. The fence is an `HINCRBY`
 * of the name's field in one fences hash, taken in the same script as the SET; that hash is also
 * the list of lock names `/v1/locks` reads, so a turn (acquire + release) costs 3 + 3 commands and
 * no holders bookkeeping. Waiters mark the holder's value when they find it busy; its release then
 * wakes them with a PUBLISH (a release nobody waits for publishes nothing). They also poll, for
 * expiries.
 *
 * On a replicated Redis (`minReplicas` > 0) an acquire and each renewal are confirmed with `WAIT`
 * before they count, so a failover cannot hand the new master a lock key or a fence counter older
 * than what a holder acts on (docs/lock-backends.md says what is left).
 *
 * The lock connection has no offline queue: while Redis is unreachable a renewal fails at once
 * instead of waiting in a queue, so every held lock is reported lost straight away.
 */
export class RedisReceiverLocks implements ReceiverLocks {
  readonly backend = 'redis' as const;
  /** How every lock value of this process starts: `<emitterId>:<random> ` (its session, then a space). */
  private readonly owner: string;
  private readonly held: HeldLockRegistry;
  private readonly waiters = new Map<string, Set<() => void>>();
  private redis: (RedisClient & LockCommands) | undefined;
  private subscriber: RedisClient | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private renewing = false;
  private readonly replicas: ReplicaBarrier;
  /** The groups' prefixes (just the prefix with one group). */
  private readonly prefixes: string[];

  constructor(
    private readonly target: RedisTarget,
    private readonly options: RedisLockOptions,
  ) {
    this.owner = `${options.emitterId}:${randomBytes(8).toString('hex')} `;
    this.held = new HeldLockRegistry(options.ttlMs);
    const groups = options.shardGroups ?? 1;
    this.prefixes = groups > 1 ? groupPrefixes(options.prefix, groups) : [options.prefix];
    // a lock and its fence are written on its group's master: a round covers each
    const marks = [...new Set([options.prefix, ...this.prefixes])].map((prefix) => `${prefix}:replicated`);
    this.replicas = new ReplicaBarrier(target, marks, options.minReplicas ?? 0);
  }

  async start(): Promise<void> {
    const redis = connectRedis(this.target, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      lazyConnect: true,
      commandTimeout: requestTimeoutMs(this.options.ttlMs),
    }) as RedisClient & LockCommands;
    redis.defineCommand('lockAcquire', { numberOfKeys: 3, lua: ACQUIRE });
    redis.defineCommand('lockRelease', { numberOfKeys: 1, lua: RELEASE });
    redis.defineCommand('lockRenew', { lua: RENEW });
    redis.on('error', () => {}); // reported through failed commands and lost locks
    // a connection that never came up is closed, or it would go on reconnecting with nobody to use it
    await lockCall('redis', redis.connect()).catch((error: unknown) => {
      redis.disconnect();
      throw error;
    });
    await this.replicas.connect();
    this.redis = redis;
    this.heartbeat = setInterval(() => void this.renewAll(), renewEveryMs('redis', this.options.ttlMs));
    this.heartbeat.unref();
  }

  acquire(receiverId: string, options: AcquireOptions): Promise<HeldLock | null> {
    const pollMs = Math.max(20, Math.min(250, Math.floor(this.options.ttlMs / 8)));
    return lockCall(
      'redis',
      acquireWithin(
        () => this.tryAcquire(receiverId, options.waitMs > 0),
        (ms, signal) => this.waitForRelease(receiverId, ms, signal),
        options,
        pollMs,
      ),
    );
  }

  async release(lock: HeldLock): Promise<void> {
    if (!this.held.releasing(lock)) return;
    await this.commands()
      .lockRelease(this.lockKey(lock.receiverId), this.owner, lock.receiverId, `${this.options.prefix}:lock-released`)
      .catch(() => {}); // unreachable Redis: the key expires by itself after the TTL
  }

  holders(): Promise<LockHolder[]> {
    return lockCall('redis', this.readHolders());
  }

  /** Every lock name ever taken (each group's fences hash), then their values and fences, one snapshot per group. */
  private async readHolders(): Promise<LockHolder[]> {
    const groups = await Promise.all(this.prefixes.map((prefix) => this.readGroupHolders(prefix)));
    return holdersByReceiver(groups.flat());
  }

  private async readGroupHolders(prefix: string): Promise<{ name: string; fence: number; emitterId: string; since: string }[]> {
    const redis = this.commands();
    const names = await redis.hkeys(`${prefix}:lock-fences`);
    if (names.length === 0) return [];
    const replies = await redis
      .multi()
      .mget(names.map((name) => `${prefix}:lock:${name}`))
      .hmget(`${prefix}:lock-fences`, ...names)
      .exec();
    const [values, fences] = (replies ?? []).map(([error, reply]) => {
      if (error) throw error;
      return reply as (string | null)[];
    });
    return names.flatMap((name, index) => {
      const holder = parseLockValue(values?.[index] ?? null);
      return holder ? [{ name, fence: Number(fences?.[index]), ...holder }] : [];
    });
  }

  async ping(): Promise<boolean> {
    return this.commands()
      .ping()
      .then(
        () => true,
        () => false,
      );
  }

  stats(): LockStats {
    return this.held.stats();
  }

  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    await Promise.all(this.held.all().map((lock) => this.release(lock)));
    this.subscriber?.disconnect();
    this.replicas.close();
    this.redis?.disconnect();
    this.redis = undefined;
  }

  private async tryAcquire(receiverId: string, mark: boolean): Promise<HeldLock | null> {
    this.held.attempting(receiverId);
    const sentAt = monotonicNow();
    const prefix = this.prefixOf(receiverId);
    const fence = await this.commands().lockAcquire(
      `${prefix}:lock:${receiverId}`,
      `${prefix}:lock-fences`,
      `${prefix}:fence:${receiverId}`,
      `${this.owner}${new Date().toISOString()}`,
      this.options.ttlMs,
      receiverId,
      mark ? '1' : '0',
    );
    if (!fence) return null;
    const lock = this.held.add(receiverId, fence, sentAt);
    try {
      await this.replicas.confirm();
    } catch (error) {
      // A lock or fence a failover could forget must not be used: give it back.
      await this.release(lock);
      throw new LockstepError('LOCKSTEP_LOCK_BACKEND', 503, `the lock of ${receiverId} did not reach the Redis replicas in time`, { cause: error });
    }
    return lock;
  }

  private async renewAll(): Promise<void> {
    if (this.renewing || this.held.size === 0) return;
    this.renewing = true;
    const locks = this.held.all();
    const sentAt = monotonicNow();
    try {
      // one script per group: a script reaches one slot
      const byGroup = new Map<string, typeof locks>();
      for (const lock of locks) {
        const prefix = this.prefixOf(lock.receiverId);
        const group = byGroup.get(prefix);
        if (group) group.push(lock);
        else byGroup.set(prefix, [lock]);
      }
      const replies = await Promise.all(
        [...byGroup.values()].map(async (group) => {
          const keys = group.map((lock) => this.lockKey(lock.receiverId));
          const renewed = await this.commands().lockRenew(keys.length, ...keys, this.owner, this.options.ttlMs);
          return group.map((lock, index) => ({ lock, renewed: renewed[index] === 1 }));
        }),
      );
      await this.replicas.confirm(); // a renewal only the old master saw would not hold after a failover
      const results = replies.flat();
      this.held.renewed(
        results.filter(({ renewed }) => renewed).map(({ lock }) => lock),
        sentAt,
      );
      for (const { lock, renewed } of results) if (!renewed) lock.lose('renewal-refused');
    } catch {
      this.held.loseAll('renewal-failed');
    } finally {
      this.renewing = false;
    }
  }

  /** Waits for a release of `receiverId` announced on the release channel, or `ms`, or the signal. */
  private async waitForRelease(receiverId: string, ms: number, signal?: AbortSignal): Promise<void> {
    await this.subscribe();
    const wake = new AbortController();
    const onRelease = (): void => wake.abort();
    const set = this.waiters.get(receiverId) ?? new Set();
    set.add(onRelease);
    this.waiters.set(receiverId, set);
    try {
      await withLinkedSignal([signal, wake.signal], (stop) => sleep(ms, stop));
    } finally {
      set.delete(onRelease);
      if (set.size === 0) this.waiters.delete(receiverId);
    }
  }

  private async subscribe(): Promise<void> {
    if (this.subscriber) return;
    const subscriber = connectRedis(this.target, { lazyConnect: true });
    this.subscriber = subscriber;
    subscriber.on('error', () => {});
    subscriber.on('message', (_channel: string, receiverId: string) => {
      for (const wake of this.waiters.get(receiverId) ?? []) wake();
    });
    await subscriber.connect();
    await subscriber.subscribe(`${this.options.prefix}:lock-released`);
  }

  private commands(): RedisClient & LockCommands {
    if (!this.redis) throw lockBackendError('lock backend not started: call start() first');
    return this.redis;
  }

  /** The prefix of a lock name's keys (its lock key, its fence): its shard group's. */
  private prefixOf(name: string): string {
    return this.prefixes.length === 1 ? this.options.prefix : (this.prefixes[groupOf(name, this.prefixes.length)] as string);
  }

  private lockKey(name: string): string {
    return `${this.prefixOf(name)}:lock:${name}`;
  }
}

/**
 * Who a lock value names: `<emitterId>:<random> <since>`, with a trailing `!` once a waiter marked
 * it. Null for a value this version does not write (a key left by an older one, about to expire).
 */
function parseLockValue(value: string | null): { emitterId: string; since: string } | null {
  const space = value?.lastIndexOf(' ') ?? -1;
  if (!value || space < 0) return null;
  const session = value.slice(0, space);
  return { emitterId: session.slice(0, session.lastIndexOf(':')), since: value.slice(space + 1).replace(/!$/, '') };
}
