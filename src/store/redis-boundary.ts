import { redisFailure } from '../dependency-errors.js';

/** A failure of Redis as Lockstep's own error (LOCKSTEP_REDIS_UNAVAILABLE, …_OUT_OF_MEMORY); any other error as it is. */
function asRedisFailure(error: unknown): Error {
  if (!(error instanceof Error)) return new Error(String(error), { cause: error });
  return redisFailure(error) ?? error;
}

/**
 * The store's boundary: every promise a method of `part` returns fails with `asRedisFailure`, so no
 * caller outside src/store ever sees an ioredis or BullMQ error for Redis being cut off or full.
 * One wrapper over each store part rather than a catch in each of their methods.
 */
export function redisBoundary<T extends object>(part: T): T {
  return new Proxy(part, {
    get(target, name) {
      const value: unknown = Reflect.get(target, name, target);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]): unknown => {
        const result: unknown = Reflect.apply(value, target, args);
        return result instanceof Promise ? result.catch((error: unknown) => Promise.reject(asRedisFailure(error))) : result;
      };
    },
  });
}
