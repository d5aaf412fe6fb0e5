import type { Redis } from 'ioredis';
import { Keys } from '../../src/store/keys.js';
import type { RedisServer } from '../support/redis.js';

/**
 * A test's own look at what the store wrote: a plain client and the store's key names. The store
 * keeps its connection to itself; tests check its effects in Redis directly.
 */
export interface Probe {
  redis: Redis;
  keys: Keys;
}

export function probe(server: RedisServer, prefix: string): Probe {
  return { redis: server.client(), keys: new Keys(prefix) };
}
