import type { AcceptResult } from '../store/messages.js';
import { badField, type LockstepError } from '../errors.js';

/**
 * The batch's `Idempotency-Key` covers every message in it: each message without a key of its own
 * gets one derived from it and its position, stored atomically with the message by the accept
 * script. A retry of the batch with the same key returns what was stored (as duplicates) and
 * stores only what was not. The space in the derived key cannot occur in a client's key (the
 * schema allows visible ASCII only), so it never collides with a single message's key.
 */
export function batchMessageKey(batchKey: string, index: number): string {
  return `batch ${batchKey} ${index}`;
}

/** `0, 1, 3-7` for the indexes given in ascending order (runs of three or more as a range). */
export function indexList(indexes: number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < indexes.length;) {
    let j = i;
    while (j + 1 < indexes.length && (indexes[j + 1] as number) === (indexes[j] as number) + 1) j += 1;
    if (j - i >= 2) parts.push(`${indexes[i]}-${indexes[j]}`);
    else parts.push(...indexes.slice(i, j + 1).map(String));
    i = j + 1;
  }
  return parts.join(', ');
}

/**
 * The 409 of a batch whose messages were stored but for some, because a receiver they name was
 * deleted between the up-front check and the write: says exactly which were stored and how to
 * store the rest without storing any twice.
 */
export function batchCut(results: AcceptResult[], withKey: boolean): LockstepError | undefined {
  const missing = results.flatMap((result, index) => (result.kind === 'unknown-receiver' ? [{ index, receiverId: result.receiverId }] : []));
  const [first] = missing;
  if (!first) return undefined;
  const stored = results.flatMap((result, index) => (result.kind === 'unknown-receiver' ? [] : [index]));
  const retry = withKey
    ? 'Retry the whole batch with the same Idempotency-Key: the stored ones come back as duplicates and only the rest is stored.'
    : 'Send only the messages not stored again (the whole batch again would store the others twice; an Idempotency-Key makes such a retry safe).';
  return badField(
    `messages[${first.index}].receiverIds`,
    `names a receiver deleted just now (${first.receiverId}); stored: ${stored.length > 0 ? `messages ${indexList(stored)}` : 'none'} (${stored.length} of ${results.length}); ` +
      `not stored: messages ${indexList(missing.map((m) => m.index))}. ${retry}`,
    409,
  );
}
