import { Redis, type RedisOptions } from 'ioredis';

/**
 * One place that opens Redis connections, so every part gets the same resilient settings:
 * reconnect forever with a capped backoff, and let BullMQ's blocking commands wait.
 */
export function connectRedis(url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: null,
    retryStrategy: (times) => Math.min(50 * times, 1000),
    lazyConnect: false,
    ...options,
  });
}

/** Redacts the password of a Redis URL for banners and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}
