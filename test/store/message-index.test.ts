import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { EMPTY_CATALOG } from '../../src/store/event-types.js';
import { useStore } from '../support/store.js';

const RETENTION_MS = 1000;

/**
 * The message indexes behind GET /v1/messages (every message, and each tenant's): accepts drop the
 * ids older than the retention about once a second per process, not in every accept, and the
 * listing never shows an id whose message has expired meanwhile.
 */
describe('message indexes: trimmed about once a second, never listing an expired message', () => {
  const db = useStore('idx', { retentionMs: RETENTION_MS });

  /** A message to no receiver: final at once, so it expires RETENTION_MS after its accept. */
  const accept = async (tenantId?: string): Promise<string> => {
    const result = await db.store.messages.accept({ eventType: 'idx.event', payload: {}, receiverIds: [], ...(tenantId ? { tenantId } : {}) }, EMPTY_CATALOG);
    assert.equal(result.kind, 'accepted');
    return result.message.id;
  };
  const listed = async (tenantId?: string): Promise<string[]> =>
    (await db.store.messageIndex.list({ limit: 50, ...(tenantId ? { tenantId } : {}) })).data.map((message) => message.id);
  const indexed = (key: string): Promise<string[]> => db.raw.redis.zrange(key, 0, -1);
  const trims = async (): Promise<number> => Number(/cmdstat_zremrangebylex:calls=(\d+)/.exec(await db.raw.redis.info('commandstats'))?.[1] ?? 0);

  test('an expired message is not listed while its id waits for a trim; a later accept trims both indexes', async () => {
    const { keys } = db.raw;
    const first = await accept('t1');
    assert.deepEqual([await listed(), await listed('t1')], [[first], [first]]);
    await sleep(RETENTION_MS + 300);
    assert.deepEqual(await indexed(keys.messageIndex), [first], 'no accept since: the id is still indexed');
    assert.deepEqual([await listed(), await listed('t1')], [[], []], 'but its message is gone, so neither list shows it');
    const second = await accept('t1');
    assert.deepEqual([await indexed(keys.messageIndex), await indexed(keys.tenantMessages('t1'))], [[second], [second]]);
    assert.deepEqual([await listed(), await listed('t1')], [[second], [second]]);
  });

  test('a burst of accepts trims at most once a second, not once per accept', async () => {
    await sleep(1100); // the previous test's trim is more than a second old
    const before = await trims();
    for (let n = 0; n < 50; n++) await accept();
    const ran = (await trims()) - before;
    assert.ok(ran >= 1 && ran <= 2, `${ran} trims for 50 accepts`);
  });
});
