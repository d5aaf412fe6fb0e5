import { redisFailure } from '../dependency-errors.js';
import { isLockstepError, LockstepError } from '../errors.js';
import type { ReceiverLocks } from './types.js';

/**
 * The lock backends' boundary: a failure of the lock service (etcd3's, a fetch to Consul, ioredis's)
 * leaves src/locks as Lockstep's own error, its cause kept. With Redis as the lock service, Redis
 * being unreachable is said as for the store (LOCKSTEP_REDIS_UNAVAILABLE).
 */
export function lockFailure(backend: ReceiverLocks['backend'], error: unknown, at?: string): LockstepError {
  if (isLockstepError(error)) return error;
  const redis = backend === 'redis' && error instanceof Error ? redisFailure(error) : undefined;
  const why = error instanceof Error ? error.message : String(error);
  return redis ?? new LockstepError('LOCKSTEP_LOCK_BACKEND', 503, `${backend} lock service${at ? ` at ${at}` : ''}: ${why}`, { cause: error });
}

/** `work`, failing only with `lockFailure` (`at`: the service's address, for the operator). */
export function lockCall<T>(backend: ReceiverLocks['backend'], work: Promise<T>, at?: string): Promise<T> {
  return work.catch((error: unknown) => Promise.reject(lockFailure(backend, error, at)));
}

/** Which service a failed turn could not reach, for `lockstep_backend_errors_total`: the lock service says so by code, the rest is Redis's. */
export function serviceOf(error: unknown): 'lock' | 'redis' {
  return isLockstepError(error, 'LOCKSTEP_LOCK_BACKEND') ? 'lock' : 'redis';
}

/** An error of the backend itself (closed, not started): not the lock service's. */
export const lockBackendError = (message: string): LockstepError => new LockstepError('LOCKSTEP_LOCK_BACKEND', 503, message);
