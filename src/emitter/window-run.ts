import { sleep, withLinkedSignal } from '../lib/abort.js';
import type { HeldLock } from '../locks/types.js';
import type { AttemptRecord, Claim, ClaimedDelivery, ClaimedReceiver, InFlight } from '../store/deliveries.js';
import type { ChannelNotices } from '../store/index.js';
import { lanesWanted, type Lane } from './lanes.js';
import type { Pacer } from './pacer.js';
import type { AttemptRecorder } from './recorder.js';
import type { WindowFacts } from './turn.js';

/**
 * After a request that got no answer (timed out, cut off), the lane waits this long before its
 * next request: the aborted connection's close reaches the receiver a moment after we drop it,
 * and the receiver must see it closed before the next request arrives, or it would see two.
 */
const CLOSE_SETTLE_MS = 25;

/**
 * A window is claimed ahead once this few of the current one are left to start: half a lane's
 * window (32), four requests per lane with more, well over a claim's round trip (1-3 ms, up to
 * ~20 ms for 256 deliveries on a busy machine) at a hot receiver's pace.
 */
function aheadAt(lanes: number): number {
  return Math.max(16, 4 * lanes);
}

export type SendClaim = Extract<Claim, { kind: 'send' }>;

/** A claimed window, what its attempts share, and whether the claim found all it asked for (the queue may hold more). */
export interface Window {
  claim: SendClaim;
  how: WindowFacts;
  full: boolean;
}

/** What a run needs of its turn. */
export interface RunParts {
  own: HeldLock;
  lanes: readonly Lane[];
  recorder: AttemptRecorder;
  /** A rate-limited window's pacer: such a window is never followed by one claimed ahead. */
  pacer: Pacer | undefined;
  breakerFailures: number;
  keyChanges: ChannelNotices;
  stopping: AbortSignal;
  /** The turn's own lock held and no shutdown under way. */
  mayGoOn: () => boolean;
  attempt: (receiver: ClaimedReceiver, delivery: ClaimedDelivery, lane: Lane, how: WindowFacts) => Promise<AttemptRecord>;
  /**
   * Claims the next window past what is `inFlight`, `claimed` being how many the run has claimed
   * so far (the turn's budget); undefined when the turn has no room for one (budget, time, lock).
   */
  claimAhead?: (inFlight: InFlight, claimed: number) => Promise<Window | Claim | undefined>;
}

/** How a run ended: requests started, the window it ended in, and a claim ahead it did not send from. */
export interface RunEnd {
  sent: number;
  last: Window;
  unused?: Claim;
}

/**
 * The lanes of a turn sending windows of deliveries: every lane takes the next delivery and starts
 * its request in the same synchronous step, right after checking its locks, so requests start in
 * the order claimed. A rate-limited window's lanes first wait for the pacer, in turn.
 *
 * Claim ahead: while the tail of a window is in flight, the next one is claimed (past the last
 * first attempt claimed, leaving out the retries not recorded yet), so a lane that frees starts
 * its next request at once instead of waiting for the window's last answer and a round trip; its
 * outcomes join the same recorder, after this window's. Anything that stops the sending (a
 * failure of a `strict` receiver, the breaker, a 429, 410, a lost lock, fenced,
 * disabled, a key change) stops every lane before its next request, and a window claimed ahead is
 * then given back unsent: claims write nothing, so the next claim hands its deliveries out again.
 * With one lane a failure is always seen before the next window's first request starts.
 */
export class WindowRun {
  private window: Window;
  /** The next delivery of `window` to take. */
  private next = 0;
  private sent = 0;
  /** Deliveries in the windows taken on so far. */
  private claimed: number;
  private stop = false;
  /** Consecutive failures, on from the first claim's count across the run's windows. */
  private streak: number;
  private ahead: Promise<Window | Claim | undefined> | undefined;
  private aheadFrom: Window | undefined;
  private unused: Claim | undefined;

  constructor(
    first: Window,
    private readonly parts: RunParts,
  ) {
    this.window = first;
    this.claimed = first.claim.deliveries.length;
    this.streak = first.claim.failStreak;
  }

  async run(): Promise<RunEnd> {
    await Promise.all(this.parts.lanes.map((lane) => this.lane(lane)));
    // stopped with a claim ahead under way: nothing is sent from it, but it is not left behind
    if (this.ahead) this.unusable(await this.ahead);
    return { sent: this.sent, last: this.window, ...(this.unused ? { unused: this.unused } : {}) };
  }

  private async lane(lane: Lane): Promise<void> {
    const { pacer, recorder, stopping, breakerFailures } = this.parts;
    while (this.going(lane)) {
      const paced =
        pacer &&
        (await withLinkedSignal([stopping, lane.signal], (signal) =>
          pacer.admit(
            signal,
            () => this.take(lane),
            () => this.hasNext(lane),
          ),
        ));
      if (pacer && !paced) return;
      const taken = paced ? paced.item : this.take(lane);
      if (!taken) {
        if (await this.moveOn(lane)) continue;
        return;
      }
      const [delivery, { claim, how }] = taken;
      const record = await this.parts.attempt(claim.receiver, delivery, lane, how);
      if (paced) pacer?.answered(paced.index);
      recorder.add(record);
      const { outcome } = record;
      if (outcome.kind === 'delivered') this.streak = 0;
      else if (outcome.kind === 'failed') this.streak++;
      // a lost slot ends only its own lane; anything the receiver said about itself ends them all
      if (outcome.kind === 'aborted') return;
      const goOn =
        outcome.kind === 'delivered' ||
        (outcome.kind === 'failed' && claim.receiver.ordering === 'unordered' && this.streak < breakerFailures && outcome.holdMs === 0);
      if (!goOn) this.stop = true;
      else if (record.attempt.statusCode === null) await withLinkedSignal([stopping, lane.signal], (signal) => sleep(CLOSE_SETTLE_MS, signal));
    }
  }

  /** The deadline check right before each send: a process that just woke from a pause past its deadline finds its lock lost here and sends nothing. */
  private going(lane: Lane): boolean {
    return !this.stop && this.parts.mayGoOn() && lane.lock.isHeld() && !this.parts.recorder.halted && !this.stale();
  }

  private hasNext(lane: Lane): boolean {
    return this.going(lane) && this.next < this.window.claim.deliveries.length;
  }

  /**
   * Keys changed after the window's claim read them (a rotation's notice): stop before the next
   * attempt; the next claim brings the new keys. With the notices down (not `listening`), every
   * window is one attempt long. Without a change, just a Map lookup.
   */
  private stale(): boolean {
    const { keyChanges, own } = this.parts;
    return keyChanges.since(own.receiverId, this.window.how.keysStamp) && (keyChanges.listening || this.next > 0);
  }

  /** The next delivery and its window, taken in the step that starts its request; claims ahead near the window's end. */
  private take(lane: Lane): [ClaimedDelivery, Window] | undefined {
    const { deliveries } = this.window.claim;
    const delivery = this.hasNext(lane) ? deliveries[this.next++] : undefined;
    if (!delivery) return undefined;
    this.sent++;
    if (deliveries.length - this.next <= aheadAt(this.parts.lanes.length)) this.claimAhead();
    return [delivery, this.window];
  }

  /** Once per window, and only after one that found all it asked for, unpaced, with key changes heard. */
  private claimAhead(): void {
    const { claimAhead, recorder, keyChanges } = this.parts;
    if (!claimAhead || this.aheadFrom === this.window || !this.window.full || this.window.claim.rate || !keyChanges.listening) return;
    this.aheadFrom = this.window;
    // a claim that fails is no window: the turn's next claim, after the record, says what is wrong
    this.ahead = claimAhead(recorder.inFlight(), this.claimed).catch(() => undefined);
  }

  /** The window is used up: takes on the one claimed ahead, if it came and the sending goes on. Resolves whether it did. */
  private async moveOn(lane: Lane): Promise<boolean> {
    const pending = this.ahead;
    if (!pending || !this.going(lane)) return false;
    const from = this.window;
    const got = await pending;
    if (this.window !== from) return true; // another lane took it on
    if (this.ahead !== pending) return false; // another lane found it unusable
    this.ahead = undefined;
    // another number of lanes (maxInFlight changed) or a rate limit: the turn starts afresh after the record
    if (!got || !('how' in got) || lanesWanted(got.claim.receiver) !== lanesWanted(from.claim.receiver) || got.claim.rate || !this.going(lane)) {
      this.unusable(got);
      return false;
    }
    this.window = got;
    this.next = 0;
    this.claimed += got.claim.deliveries.length;
    this.parts.recorder.extend(got.claim.deliveries);
    return true;
  }

  private unusable(got: Window | Claim | undefined): void {
    this.ahead = undefined;
    this.unused = got && 'how' in got ? got.claim : got;
  }
}
