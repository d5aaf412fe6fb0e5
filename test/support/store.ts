import { after, before } from 'node:test';
import type { Redis } from 'ioredis';
import { Keys } from '../../src/store/keys.js';
import { Store, type StoreOptions } from '../../src/store/index.js';
import type { ReceiverSettings } from '../../src/store/types.js';
import { RedisServer } from './redis.js';

/**
 * A test's own look at what the store wrote: a plain client and the store's key names. The store
 * keeps its connection to itself; tests check its effects in Redis directly.
 */
export interface Probe {
  redis: Redis;
  keys: Keys;
}

export function probe(server: RedisServer, prefix: string, shardGroups = 1): Probe {
  return { redis: server.client(), keys: new Keys(prefix, shardGroups) };
}

/** The receiver the store tests create: an enabled, unordered one for every event type; `overrides` changes what a test needs. */
export function receiverSettings(overrides: Partial<ReceiverSettings> = {}): ReceiverSettings {
  return {
    url: 'https://example.com/hook',
    eventTypes: [],
    secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    description: '',
    headers: {},
    timeoutMs: 1000,
    enabled: true,
    ordering: 'unordered',
    ...overrides,
  };
}

export interface StoreHarness {
  /** The real redis-server the store runs on. */
  readonly server: RedisServer;
  readonly store: Store;
  /** A plain client on the same Redis and the store's key names. */
  readonly raw: Probe;
  /** Creates a receiver with `receiverSettings(overrides)`; its id. */
  newReceiver(overrides?: Partial<ReceiverSettings>): Promise<string>;
}

/**
 * A Store on its own real redis-server under `prefix`, started before the tests of the describe
 * block (or file) that calls this and stopped after them. Read its fields inside tests and hooks.
 */
export function useStore(prefix: string, options: Partial<StoreOptions> = {}): StoreHarness {
  let started: { server: RedisServer; store: Store; raw: Probe } | undefined;
  before(async () => {
    const server = await RedisServer.start();
    const store = new Store(server.url, prefix, { disableAfterDeadMs: 3_600_000, ...options });
    started = { server, store, raw: probe(server, prefix, options.shardGroups) };
    await store.connect();
  });
  after(async () => {
    started?.raw.redis.disconnect();
    await started?.store.close();
    await started?.server.destroy();
  });
  const get = (): { server: RedisServer; store: Store; raw: Probe } => {
    if (!started) throw new Error('useStore: read the store inside a test or a hook, once it has started');
    return started;
  };
  return {
    get server() {
      return get().server;
    },
    get store() {
      return get().store;
    },
    get raw() {
      return get().raw;
    },
    newReceiver: async (overrides) => (await get().store.receivers.create(receiverSettings(overrides))).id,
  };
}
