import { isLockstepError, LockstepError } from './errors.js';

/**
 * The one place that reads the text of what Lockstep's dependencies answer: ioredis's failures
 * (ioredis gives no stable code for most of them) and Consul's refusal of a gone session. The
 * boundaries of src/store (redis-boundary.ts) and src/locks (failure.ts) use it to throw
 * LockstepErrors; everything else decides by `code`.
 */

/**
 * What a 503 says when Redis is cut: a write may have reached Redis before its answer was lost, so
 * the only honest statement is that it may or may not be stored, and the safe retry is an
 * idempotent one.
 */
export const REDIS_UNAVAILABLE =
  'Redis is unavailable right now. A request that writes may or may not have been stored: retry shortly, ' +
  'and for a message retry with the same Idempotency-Key so that it cannot be stored twice.';

export const REDIS_OUT_OF_MEMORY =
  'Redis is out of memory (maxmemory reached, policy noeviction) and refuses writes: this request was not completed. ' +
  'Retry once the operator has freed memory or raised maxmemory; for a message, retry with the same Idempotency-Key.';

/** Redis refusing writes because maxmemory is reached (directly, or as the reason a MULTI was discarded). */
function isRedisOutOfMemory(error: Error): boolean {
  const previous = (error as { previousErrors?: unknown }).previousErrors;
  return (
    /^OOM |\bOOM command not allowed/.test(error.message) || (Array.isArray(previous) && previous.some((e) => e instanceof Error && isRedisOutOfMemory(e)))
  );
}

/**
 * ioredis's ways of saying Redis is unreachable right now; READONLY and UNBLOCKED are a master
 * demoted by a failover (the connection moves to the new master by itself), CLUSTERDOWN a cluster
 * with a slot no master serves (a master down and no replica taken over yet), a cluster client
 * giving up on a node it cannot reach (its last error, a redirection it could not follow, or
 * "Too many Cluster redirections": redis.ts) or finding no node at all, a socket that failed
 * under a write or a connect (a node stopped, a host unreachable), a transaction a cluster
 * discarded for the same reasons, and NOSCRIPT: a node without the script (a restarted or promoted
 * master; scripts are not replicated) where ioredis's reload did not get through during the
 * failover, so the script did not run (a pipeline's is run again: store/scripts.ts).
 */
function isRedisUnavailable(error: Error): boolean {
  const previous = (error as { previousErrors?: unknown }).previousErrors;
  return (
    error.name === 'MaxRetriesPerRequestError' ||
    // a MULTI a cluster discarded because its slot's master is down or moving
    (/^EXECABORT/.test(error.message) &&
      Array.isArray(previous) &&
      previous.length > 0 &&
      previous.every((e) => e instanceof Error && /^(MOVED|ASK|TRYAGAIN|CLUSTERDOWN)\b/.test(e.message))) ||
    /enableOfflineQueue|Connection is closed|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|None of startup nodes is available|Failed to refresh slots cache|max retries per request|Stream isn't writeable|LOADING|^READONLY|^UNBLOCKED|^CLUSTERDOWN|^(MOVED|ASK|TRYAGAIN) |^Too many Cluster redirections|All sentinels are unreachable|^NOSCRIPT/i.test(
      error.message,
    )
  );
}

/** A Redis failure as Lockstep's own error (503), or undefined when `error` is not one. */
export function redisFailure(error: Error): LockstepError | undefined {
  if (isLockstepError(error, 'LOCKSTEP_REDIS_UNAVAILABLE') || isLockstepError(error, 'LOCKSTEP_REDIS_OUT_OF_MEMORY')) return error;
  if (isRedisUnavailable(error)) return new LockstepError('LOCKSTEP_REDIS_UNAVAILABLE', 503, REDIS_UNAVAILABLE, { cause: error });
  if (isRedisOutOfMemory(error)) return new LockstepError('LOCKSTEP_REDIS_OUT_OF_MEMORY', 503, REDIS_OUT_OF_MEMORY, { cause: error });
  return undefined;
}

/**
 * Consul refuses an acquire under a session it no longer knows (expired or destroyed) with a 500
 * whose body reads `invalid session "<id>"`: no status or code of its own tells it apart.
 */
export function consulSessionGone(body: string): boolean {
  return /invalid session/i.test(body);
}
