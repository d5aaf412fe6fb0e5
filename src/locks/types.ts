import type { LockHolder } from '../shapes/fleet.js';

/**
 * The one interface every lock backend (Redis, etcd, Consul) implements.
 *
 * Model: each process opens ONE session with the lock service (a Redis heartbeat, an etcd lease,
 * a Consul session) and takes per-receiver keys under it with a single compare-and-set. Every held
 * receiver exposes a `lost` AbortSignal that fires on the first of:
 *   - a renewal of the session that failed or was refused,
 *   - the key's owner changing or the key disappearing (where the backend can watch it),
 *   - the local deadline `lastConfirmedRenewal + ttl − margin` passing, measured on this process's
 *     monotonic clock, without waiting for the lock service to say anything.
 * Once `lost` has fired the lock is never "found" again: the holder must stop sending and release.
 */

export type LockLostCause = 'renewal-failed' | 'renewal-refused' | 'deadline' | 'stolen' | 'released' | 'shutdown';

export interface HeldLock {
  readonly receiverId: string;
  /** Fencing token: strictly greater than the fence of every earlier holder of this receiver. */
  readonly fence: number;
  /** Wall-clock time the lock was taken, for `/v1/locks`. */
  readonly since: Date;
  /** Fires (with a `LockLostError` as reason) when the lock is lost or released. */
  readonly lost: AbortSignal;
  /** Local deadline past which this process must treat the lock as lost, on the monotonic clock (`performance.now()` ms). */
  deadline(): number;
  /** True while the lock is held and the local deadline has not passed. Check before every send. */
  isHeld(): boolean;
}

/** Who holds a receiver's lock (one of its slots): the wire shape of `/v1/locks`, declared in src/shapes. */
export type { LockHolder };

export interface AcquireOptions {
  /** How long to wait for a busy receiver before giving up and returning null. 0 = try once. */
  waitMs: number;
  /** Gives up waiting early (e.g. on shutdown). */
  signal?: AbortSignal;
}

/** Operation counts, so benchmarks can report lock operations per delivered message. */
export interface LockStats {
  acquireAttempts: number;
  acquired: number;
  releases: number;
  renewals: number;
  lost: Record<LockLostCause, number>;
}

export interface ReceiverLocks {
  readonly backend: 'redis' | 'etcd' | 'consul';
  /** Opens the session (lease, heartbeat). Must be called once before `acquire`. */
  start(): Promise<void>;
  /** Takes the receiver's lock, waiting up to `waitMs`; null when still busy (or aborted). */
  acquire(receiverId: string, options: AcquireOptions): Promise<HeldLock | null>;
  /** Releases a lock this process holds (deleting only our own key). Idempotent. */
  release(lock: HeldLock): Promise<void>;
  /** Everyone who holds a receiver right now, across every process. */
  holders(): Promise<LockHolder[]>;
  /** True when the lock service answers (for `/readyz`). */
  ping(): Promise<boolean>;
  stats(): LockStats;
  /** Releases every held key, then ends the session. Idempotent. */
  close(): Promise<void>;
}

export interface LockBackendOptions {
  /** This process's name in `/v1/locks` and logs. */
  emitterId: string;
  ttlMs: number;
  /** Key prefix, so several installations can share one lock service. */
  prefix: string;
}

export class LockLostError extends Error {
  override readonly name = 'LockLostError';
  constructor(
    readonly receiverId: string,
    readonly reason: LockLostCause,
  ) {
    super(`lock on ${receiverId} lost: ${reason}`);
  }
}

/** Why `lock` was lost (undefined while it is held). */
export function lostCause(lock: HeldLock): LockLostCause | undefined {
  const reason: unknown = lock.lost.reason;
  return reason instanceof LockLostError ? reason.reason : undefined;
}

/**
 * The safety margin subtracted from the TTL for the local deadline: it covers clock-rate drift
 * between us and the lock service and the time a renewal spends on the wire. A tenth of the TTL,
 * at least 200 ms, at most 2 s.
 */
export function deadlineMargin(ttlMs: number): number {
  return Math.min(2000, Math.max(200, Math.round(ttlMs / 10)), Math.floor(ttlMs / 2));
}

export function emptyLockStats(): LockStats {
  return {
    acquireAttempts: 0,
    acquired: 0,
    releases: 0,
    renewals: 0,
    lost: { 'renewal-failed': 0, 'renewal-refused': 0, deadline: 0, stolen: 0, released: 0, shutdown: 0 },
  };
}
