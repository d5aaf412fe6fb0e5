import type { Attempt, DeliveryStatus } from './types.js';

/** A delivery's state as the scripts keep it (field `d:<receiver>` of its message's hash). */
export interface StoredDelivery {
  status: DeliveryStatus;
  seq: number;
  attempts: number;
  failures: number;
  dueAt: number;
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
 * Reads every delivery of a message from its hash (lua/includes/keys.lua): `d:<receiver>` the
 * state, `a:<receiver>:<n>` its accepted attempt n, `r:<receiver>:<service>:<fence>:<n>` an
 * attempt whose record was refused (a stale holder's request: it was sent, so it is history too).
 * Each history is in the order the requests started. Receiver ids hold no ':' (src/ids.ts).
 */
export function readDeliveries(hash: Record<string, string>): { receiverId: string; state: StoredDelivery; history: AttemptHistory }[] {
  const states = new Map<string, StoredDelivery>();
  const attempts = new Map<string, Attempt[]>();
  for (const [field, value] of Object.entries(hash)) {
    const kind = field.slice(0, 2);
    if (kind === 'd:') states.set(field.slice(2), JSON.parse(value) as StoredDelivery);
    else if (kind === 'a:' || kind === 'r:') {
      const receiverId = field.slice(2, field.indexOf(':', 2));
      const list = attempts.get(receiverId) ?? [];
      list.push(JSON.parse(value) as Attempt);
      attempts.set(receiverId, list);
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
