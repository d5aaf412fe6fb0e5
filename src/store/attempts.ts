import type { Attempt } from './types.js';

/** An attempt as stored: it names its receiver (the legacy per-message list holds every receiver's). */
type StoredAttempt = Attempt & { receiverId: string };

/** What a delivery's stored attempts come to: those kept, and how many were left out between them. */
export interface AttemptHistory {
  attempts: Attempt[];
  omitted: number;
}

/**
 * Reads a delivery's attempts: `legacy` is the message-wide list of messages stored before
 * per-delivery lists (filtered to this receiver), `own` the delivery's list, whose marker
 * `{"omitted": n}` counts the attempts dropped between the first 3 and the last 10.
 */
export function readAttempts(receiverId: string, legacy: string[], own: string[]): AttemptHistory {
  const history: AttemptHistory = { attempts: [], omitted: 0 };
  for (const json of [...legacy, ...own]) {
    const entry = JSON.parse(json) as StoredAttempt | { omitted: number };
    if ('omitted' in entry) history.omitted += entry.omitted;
    else if (entry.receiverId === receiverId) history.attempts.push(withoutReceiver(entry));
  }
  return history;
}

function withoutReceiver({ receiverId: _, ...attempt }: StoredAttempt): Attempt {
  return attempt;
}
