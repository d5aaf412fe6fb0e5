import type { RedisClient, RedisTarget } from '../../src/redis.js';
import { Store } from '../../src/store/index.js';
import { Keys } from '../../src/store/keys.js';
import { previousLayout } from '../../src/store/migrate.js';
import type { Attempt, DeliveryStatus } from '../../src/store/types.js';

/**
 * Data as the version before storage schema 2 wrote it (a message hash, a deliveries hash, attempts
 * lists: src/store/migrate.ts), by raw commands, for the tests of the upgrade.
 */

/** An attempt as the previous version stored it: JSON naming its receiver first. */
export const attempt = (receiverId: string, n: number, fence = 1): string => {
  const stored: Attempt & { receiverId: string } = {
    receiverId,
    attempt: n,
    startedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, n, fence)).toISOString(), // a stale holder's attempt n started first
    durationMs: 12.5,
    statusCode: 500,
    error: null,
    emitterId: `emitter-${fence}`,
    fence,
    responseBody: 'nope',
    responseHeaders: { 'content-type': 'text/plain' },
  };
  return JSON.stringify(stored);
};
/** The same attempt as schema 2 keeps it: without its receiver. */
export const kept = (json: string): string => JSON.stringify({ ...(JSON.parse(json) as object), receiverId: undefined });
/** The same attempt as the API shows it. */
export const shown = (json: string): Attempt => JSON.parse(kept(json)) as Attempt;
export const state = (status: DeliveryStatus, attempts: number, seq = 1): string => JSON.stringify({ status, seq, attempts, failures: attempts, dueAt: 0 });

export interface OldMessage {
  id: string;
  /** The message hash's fields besides eventType, payload, createdAt (receiverIds: the states' receivers). */
  fields?: Record<string, string>;
  states: Record<string, string>;
  lists?: Record<string, string[]>;
  legacyList?: string[];
  /** Final: every key expires this long after (as retention.lua set them). */
  ttlMs?: number;
}

/** Writes `message` as the previous version stored it, by raw commands. */
export async function writeOld(redis: RedisClient, prefix: string, message: OldMessage): Promise<void> {
  const [keys, old] = [new Keys(prefix), previousLayout(prefix)];
  const receiverIds = Object.keys(message.states).join(',');
  const messageFields = { eventType: 'mig.event', payload: '{"n":1}', createdAt: '2026-01-01T00:00:00.000Z', receiverIds, ...message.fields };
  const written = [keys.message(message.id), old.deliveries(message.id)];
  const write = redis.multi().hset(keys.message(message.id), messageFields).hset(old.deliveries(message.id), message.states);
  for (const [receiverId, list] of Object.entries(message.lists ?? {})) {
    write.rpush(old.attempts(message.id, receiverId), ...list);
    written.push(old.attempts(message.id, receiverId));
  }
  if (message.legacyList) {
    write.rpush(old.legacyAttempts(message.id), ...message.legacyList);
    written.push(old.legacyAttempts(message.id));
  }
  if (message.ttlMs) for (const key of written) write.pexpire(key, message.ttlMs);
  await write.exec();
}

/** A store of the new version starting on `target`: what its connect converted. */
export async function start(target: RedisTarget, prefix: string): Promise<number | undefined> {
  const store = new Store(target, prefix, { disableAfterDeadMs: 3_600_000 });
  try {
    return await store.connect();
  } finally {
    await store.close();
  }
}
