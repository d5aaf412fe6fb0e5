import { Keys } from './keys.js';
import type { Attempt, Delivery, DeliveryStatus } from './types.js';

/** A delivery's state as the scripts keep it (its message hash's field `Keys.deliveryField`). */
export interface StoredDelivery {
  status: DeliveryStatus;
  seq: number;
  attempts: number;
  failures: number;
  dueAt: number;
}

/** A delivery's state as read back from its field (written by the scripts: lua/includes/keys.lua). */
export function parseDelivery(state: string): StoredDelivery {
  return JSON.parse(state) as StoredDelivery;
}

/** What a delivery's stored attempts come to: those kept, and how many were left out between them. */
export interface AttemptHistory {
  attempts: Attempt[];
  omitted: number;
}

/** Attempts kept per delivery: the first 3 and the last 10 (lua/record.lua drops the rest). */
const KEPT_FIRST = 3;
const KEPT_LAST = 10;

/** How many of a delivery's `attempts` were left out of its history. */
export function omittedAttempts(attempts: number): number {
  return Math.max(0, attempts - KEPT_FIRST - KEPT_LAST);
}

/**
 * Reads every delivery of a message from its hash (field names: Keys.fields): a receiver's state,
 * its accepted attempts, and its attempts whose record was refused (a stale holder's request: it
 * was sent, so it is history too). Each history is in the order the requests started.
 */
function readDeliveries(hash: Record<string, string>): { receiverId: string; state: StoredDelivery; history: AttemptHistory }[] {
  const states = new Map<string, StoredDelivery>();
  const attempts = new Map<string, Attempt[]>();
  for (const [field, value] of Object.entries(hash)) {
    const owner = Keys.parseField(field);
    if (owner?.kind === 'delivery') states.set(owner.receiverId, parseDelivery(value));
    else if (owner) {
      const list = attempts.get(owner.receiverId) ?? [];
      list.push(JSON.parse(value) as Attempt);
      attempts.set(owner.receiverId, list);
    }
  }
  return [...states]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([receiverId, state]) => ({
      receiverId,
      state,
      history: { attempts: (attempts.get(receiverId) ?? []).sort(byStart), omitted: omittedAttempts(state.attempts) },
    }));
}

function byStart(a: Attempt, b: Attempt): number {
  return a.startedAt.localeCompare(b.startedAt) || a.attempt - b.attempt;
}

/** Every delivery of a message as GET /v1/messages/:id shows it, from its hash (with every copy's fields). */
export function deliveriesOf(hash: Record<string, string>): Delivery[] {
  return readDeliveries(hash).map(({ receiverId, state, history }) => {
    const waiting = state.status === 'retrying' && state.dueAt > Date.now();
    return {
      receiverId,
      status: state.status,
      nextAttemptAt: waiting ? new Date(state.dueAt).toISOString() : null,
      attempts: history.attempts,
      omittedAttempts: history.omitted,
    };
  });
}
