import { deadlineMargin, type ReceiverLocks } from './types.js';

type Backend = ReceiverLocks['backend'];

/** Time a renewal gets for its round trip and a busy event loop inside a lock's validity window. */
const RENEWAL_SLACK_MS = 100;
/** Consul's default `session_ttl_min`: a real agent refuses shorter session TTLs. */
export const CONSUL_MIN_SESSION_TTL_S = 10;

/**
 * Longest one request to the lock service may take: 5 s, or the TTL when shorter (at least 1 s).
 * An answer later than a TTL can hold no lock, and a request on a link that swallows it must fail,
 * not hang, so that the emitter hands its work to others (emitter/lock-gate.ts). No lock's safety
 * depends on it: deadlines count from confirmed renewals.
 */
export function requestTimeoutMs(ttlMs: number): number {
  return Math.min(5000, Math.max(1000, ttlMs));
}

/** etcd leases have whole seconds: ceil(ttl), at least 1 s (etcd may raise it, never lower it). */
export function etcdLeaseTtlS(ttlMs: number): number {
  return Math.max(1, Math.ceil(ttlMs / 1000));
}

/** Consul session TTL: Consul's minimum, or the lock TTL rounded up to seconds when longer. */
export function consulSessionTtlS(ttlMs: number, minSessionTtlS = CONSUL_MIN_SESSION_TTL_S): number {
  return Math.max(minSessionTtlS, Math.ceil(ttlMs / 1000));
}

/** How often each backend renews its session (or keys) for a lock TTL of `ttlMs`. */
export function renewEveryMs(backend: Backend, ttlMs: number): number {
  switch (backend) {
    case 'redis':
      return Math.max(50, Math.floor(ttlMs / 3));
    case 'etcd':
      return (etcdLeaseTtlS(ttlMs) * 1000) / 3; // etcd3 keeps a lease alive every lease TTL / 3
    case 'consul':
      return consulRenewEveryMs(ttlMs);
  }
}

/** Consul sessions are renewed every half session TTL, or a third of the lock TTL when that is sooner. */
export function consulRenewEveryMs(ttlMs: number, minSessionTtlS = CONSUL_MIN_SESSION_TTL_S): number {
  return Math.max(100, Math.floor(Math.min((consulSessionTtlS(ttlMs, minSessionTtlS) * 1000) / 2, ttlMs / 3)));
}

/**
 * A lock is trusted for `ttl − margin` after a renewal was sent; the next renewal must be sent,
 * and answered, inside that window, or every lock is lost at once, forever (etcd with a 500 ms
 * TTL: keep-alives every 333 ms against a 300 ms window).
 */
function honours(backend: Backend, ttlMs: number): boolean {
  return ttlMs - deadlineMargin(ttlMs) - renewEveryMs(backend, ttlMs) >= RENEWAL_SLACK_MS;
}

/** The shortest lock TTL `backend` can honour. */
export function minimumTtlMs(backend: Backend): number {
  let ttlMs = 1;
  while (!honours(backend, ttlMs)) ttlMs++;
  return ttlMs;
}

/** Why `ttlMs` is too short for `backend`, or null when it is fine. */
export function ttlProblem(backend: Backend, ttlMs: number): string | null {
  if (honours(backend, ttlMs)) return null;
  const every = Math.round(renewEveryMs(backend, ttlMs));
  const window = ttlMs - deadlineMargin(ttlMs);
  return (
    `LOCKSTEP_LOCK_TTL_MS=${ttlMs} is too short for the ${backend} lock backend: it renews every ${every} ms, ` +
    `and a lock is trusted for only ${window} ms after a renewal, which leaves no time for the renewal's round trip ` +
    `(every lock would be lost again and again). The ${backend} backend's minimum is ${minimumTtlMs(backend)} ms: set LOCKSTEP_LOCK_TTL_MS to at least that.`
  );
}
