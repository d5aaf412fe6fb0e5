import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { AddressGuard } from '../../src/delivery/address-guard.js';
import { DeliveryClient } from '../../src/delivery/client.js';
import { ReceiverDrainer } from '../../src/emitter/drain.js';
import type { DrainOptions } from '../../src/emitter/turn.js';
import { RedisReceiverLocks } from '../../src/locks/redis.js';
import type { ReceiverLocks } from '../../src/locks/types.js';
import { createLogger } from '../../src/logger.js';
import { Metrics } from '../../src/metrics/index.js';
import { EMPTY_CATALOG } from '../../src/store/event-types.js';
import type { ReceiverSettings } from '../../src/store/types.js';
import { TestReceiver } from './receiver.js';
import type { StoreHarness } from './store.js';

export interface DrainerHarness {
  locks: RedisReceiverLocks;
  receiver: TestReceiver;
  metrics: Metrics;
  /** A drainer on the harness's store and client: Redis locks unless given others, options over the defaults. */
  drainerWith: (options?: Partial<DrainOptions>, lockBackend?: ReceiverLocks) => ReceiverDrainer;
  /** A receiver (path `name` of the test receiver, `settings` over the defaults) with `count` messages queued for it. */
  receiverWithMessages: (name: string, count: number, settings?: Partial<ReceiverSettings>) => Promise<{ id: string; messageIds: string[] }>;
}

/**
 * A `ReceiverDrainer` as an emitter builds it, on a real store (`db`), real Redis locks (TTL
 * `ttlMs`) and a real HTTP receiver, for tests of a turn's behaviour. Call it inside a describe()
 * nested in the store's, so that it stops before the store does.
 */
export function useDrainer(db: StoreHarness, ttlMs: number): () => DrainerHarness {
  let harness: DrainerHarness | undefined;
  let client: DeliveryClient | undefined;
  const stopping = new AbortController();
  before(async () => {
    const locks = new RedisReceiverLocks(db.server.url, { emitterId: 'us', ttlMs, prefix: db.raw.keys.prefix });
    await locks.start();
    const receiver = await TestReceiver.start();
    const delivery = new DeliveryClient({ guard: new AddressGuard({ allowPrivateNetworks: true, allowCidrs: [] }) });
    client = delivery;
    const metrics = new Metrics(false);
    const drainerWith = (options: Partial<DrainOptions> = {}, lockBackend: ReceiverLocks = locks): ReceiverDrainer =>
      new ReceiverDrainer(
        lockBackend,
        db.store.deliveries,
        delivery,
        {
          emitterId: 'us',
          lockWaitMs: 1000,
          maxMessagesPerTurn: 100,
          maxTurnMs: 10_000,
          retry: { schedule: [100], strictSchedule: [100], breakerFailures: 5, throttledMinMs: 0, retryAfterMaxMs: 1000 },
          keyChanges: db.store.watchKeyChanges(),
          ...options,
        },
        createLogger('silent'),
        stopping.signal,
        metrics,
      );
    const receiverWithMessages = async (
      name: string,
      count: number,
      settings: Partial<ReceiverSettings> = {},
    ): Promise<{ id: string; messageIds: string[] }> => {
      const id = await db.newReceiver({ url: receiver.url(name), timeoutMs: 5000, ...settings });
      const messageIds: string[] = [];
      for (let i = 0; i < count; i++) {
        const accepted = await db.store.messages.accept({ eventType: 'test.event', payload: { i }, receiverIds: [id] }, EMPTY_CATALOG);
        assert.equal(accepted.kind, 'accepted');
        messageIds.push(accepted.message.id);
      }
      return { id, messageIds };
    };
    harness = { locks, receiver, metrics, drainerWith, receiverWithMessages };
  });
  after(async () => {
    stopping.abort();
    await harness?.locks.close();
    await client?.close();
    await harness?.receiver.close();
  });
  return () => {
    if (!harness) throw new Error('useDrainer: the suite has not started');
    return harness;
  };
}
