import { linkSignals, type LinkedSignal } from '../lib/abort.js';
import { slotLockName } from '../locks/slots.js';
import type { HeldLock, ReceiverLocks } from '../locks/types.js';
import type { ClaimedReceiver, Fence } from '../store/deliveries.js';

/** Deliveries claimed per round trip: the next request starts the moment the previous response ends. */
export const WINDOW = 32;
/**
 * The window for `lanes` lanes: a few requests per lane, so that the round trip between windows is
 * rare. A rate-limited receiver's window is as large as the limit allows within the claim's
 * horizon (claim.lua caps it): each window costs the pacer about one round trip of its rate.
 */
export function windowFor(lanes: number, rateLimited: boolean): number {
  return rateLimited ? 256 : Math.min(256, WINDOW * lanes);
}

/** The lanes a receiver asks for: `strict` means one request at a time, whatever maxInFlight says. */
export function lanesWanted(receiver: ClaimedReceiver): number {
  return receiver.ordering === 'strict' ? 1 : Math.max(1, Math.min(256, receiver.maxInFlight));
}

/**
 * One lane of a turn: a held lock slot that sends one request at a time. Slot 0 is the receiver's
 * own lock, the turn's: it makes the turn the only one dispatching to the receiver, fleet-wide.
 * A slot k > 0 is a lock of its own (`<receiverId>~k`) with its own fence, which the store keeps a
 * mark of under the lock service `<backend>:<k>`.
 */
export interface Lane {
  slot: number;
  lock: HeldLock;
  /** Aborts this lane's request: its own slot lost, or the turn's slot 0 lost (nothing may be sent then). */
  signal: AbortSignal;
  /** The fence the store checks for this lane's outcomes, beside the turn's own (slot k > 0 only). */
  fence: Fence | undefined;
}

/**
 * The lanes a turn holds. Slots beyond 0 are tried once each (never waited for: a slot another
 * process still holds, e.g. a stale holder's, just means one lane fewer this turn) when the
 * receiver's `maxInFlight` first asks for them, and released as soon as it asks for fewer.
 */
export class LaneSet {
  private readonly lanes: Lane[];
  private readonly links: LinkedSignal[] = [];
  /** The highest slot tried this turn: a busy slot is not tried again until the next turn. */
  private tried = 0;

  constructor(
    private readonly locks: ReceiverLocks,
    private readonly own: HeldLock,
  ) {
    this.lanes = [{ slot: 0, lock: own, signal: own.lost, fence: undefined }];
  }

  /** The lanes that can still send, slot 0 first. */
  get all(): readonly Lane[] {
    return this.lanes;
  }

  /** Grows to `want` lanes (each missing slot tried once per turn), or releases the ones above `want`; drops lanes whose slot was lost. */
  async resize(want: number): Promise<void> {
    const gone = this.lanes.filter((lane) => lane.slot > 0 && (lane.slot >= want || !lane.lock.isHeld()));
    if (gone.length > 0) {
      for (const lane of gone) this.lanes.splice(this.lanes.indexOf(lane), 1);
      await Promise.all(gone.map((lane) => this.locks.release(lane.lock)));
    }
    if (want - 1 <= this.tried) return;
    const slots = Array.from({ length: want - 1 - this.tried }, (_, i) => this.tried + 1 + i);
    this.tried = want - 1;
    const taken = await Promise.all(slots.map((slot) => this.locks.acquire(slotLockName(this.own.receiverId, slot), { waitMs: 0 }).catch(() => null)));
    for (const [i, lock] of taken.entries()) {
      const slot = slots[i] ?? 0;
      if (!lock) continue;
      const link = linkSignals(lock.lost, this.own.lost);
      this.links.push(link);
      this.lanes.push({ slot, lock, signal: link.signal, fence: { service: `${this.locks.backend}:${slot}`, value: lock.fence } });
    }
  }

  /** Releases every slot but 0 (the turn releases its own lock). */
  async release(): Promise<void> {
    for (const link of this.links) link.dispose();
    await Promise.all(this.lanes.filter((lane) => lane.slot > 0).map((lane) => this.locks.release(lane.lock)));
    this.lanes.splice(1);
  }
}
