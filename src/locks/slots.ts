import type { LockHolder } from './types.js';

/**
 * A receiver with `maxInFlight` N has N lock slots: slot 0 is the receiver's own lock (the same
 * key as ever), slot k > 0 a lock of its own named `<receiverId>~<k>`. Every backend locks names;
 * each slot therefore has its own key, its own fence and its own `lost` signal.
 */
const SEPARATOR = '~';

export function slotLockName(receiverId: string, slot: number): string {
  return slot === 0 ? receiverId : `${receiverId}${SEPARATOR}${slot}`;
}

/** The receiver and slot a lock name stands for. */
export function parseSlotLockName(name: string): { receiverId: string; slot: number } {
  const at = name.lastIndexOf(SEPARATOR);
  const slot = at < 0 ? 0 : Number(name.slice(at + 1));
  return Number.isInteger(slot) && slot > 0 ? { receiverId: name.slice(0, at), slot } : { receiverId: name, slot: 0 };
}

/** Holders as `/v1/locks` lists them: by receiver, then slot, from each held lock's name. */
export function holdersByReceiver(held: { name: string; emitterId: string; fence: number; since: string }[]): LockHolder[] {
  return held
    .map(({ name, emitterId, fence, since }) => ({ ...parseSlotLockName(name), emitterId, fence, since }))
    .sort((a, b) => a.receiverId.localeCompare(b.receiverId) || a.slot - b.slot);
}
