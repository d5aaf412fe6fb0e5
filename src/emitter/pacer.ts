import { sleep } from '../lib/abort.js';
import type { ClaimedRate } from '../store/deliveries.js';

/**
 * The rate limiter of one rate-limited window, on this process's monotonic clock: the same GCRA
 * claim.lua runs on Redis's clock, continued locally so that the window's requests start exactly
 * when the limit allows, without a round trip each.
 *
 * The claim reserved the window (moved the stored state `tat` on by one interval per delivery)
 * from `base` = the stored state or the claim's moment, whichever is later. Here `tat` starts at
 * the time the claim's answer arrived + how far `base` was ahead of the claim's moment: no earlier
 * than `base` really is, so no request starts before Redis's limiter would allow it. Each request
 * waits until `tat − tolerance`, then moves `tat` on by one interval from max(tat, now), exactly as
 * GCRA counts an arrival. `shiftMs` then tells the store how to correct its reservation to what
 * really happened (later starts push it on, unsent reservations give it back), as an upper bound
 * on Redis's clock: any local time x is at most claim's moment + (x − the moment the claim was sent).
 *
 * A request reaches the receiver some time between its start and its answer, and that time varies
 * (a new connection, a busy event loop at either end). So when an answer comes, the request is
 * counted again as if it had started then: `tat` becomes at least the answer's time + one interval
 * per request started since, which keeps the arrivals themselves, not only the starts, within
 * the limit. With one lane this is GCRA run on answer times; it costs nothing while the limit is
 * what holds the receiver back (tat is then ahead of every answer anyway).
 */
export class Pacer {
  private tat: number;
  /** Requests admitted so far in this window. */
  private admitted = 0;
  private queue: Promise<void> = Promise.resolve();
  private readonly toleranceMs: number;

  constructor(
    private readonly rate: ClaimedRate,
    /** When the claim was sent and when its answer arrived (performance.now()). */
    private readonly claim: { sentAt: number; answeredAt: number },
    /** Deliveries the claim reserved. */
    private readonly reserved: number,
    /**
     * The previous window's `tat`, when this turn paced one already: only this turn has sent
     * since (it holds slot 0), so its own count is the true one, and re-anchoring on the claim
     * would cost a round trip of the rate per window.
     */
    carried?: number,
  ) {
    this.tat = carried ?? claim.answeredAt + rate.aheadMs;
    this.toleranceMs = (Math.max(1, rate.burst) - 1) * rate.intervalMs;
  }

  /**
   * Waits, in the order asked, until one more request may start, then takes what it sends with
   * `take` (in the same step: a lane that finds nothing left uses up no room) and counts it as
   * started now; the caller starts it right away. Undefined when `signal` ends the wait or nothing is left
   * (`wanted` says so before any wait: a lane with nothing left to take does not wait its turn).
   */
  admit<T>(signal: AbortSignal, take: () => T | undefined, wanted: () => boolean): Promise<{ index: number; item: T } | undefined> {
    const turn = this.queue.then(async () => {
      if (!wanted()) return undefined;
      const wait = this.tat - this.toleranceMs - performance.now();
      if (wait > 0) await sleep(wait, signal);
      const item = signal.aborted ? undefined : take();
      if (item === undefined) return undefined;
      this.tat = Math.max(this.tat, performance.now()) + this.rate.intervalMs;
      return { index: this.admitted++, item };
    });
    this.queue = turn.then(() => undefined);
    return turn;
  }

  /** The `index`-th admitted request was answered (or given up) now. */
  answered(index: number): void {
    this.tat = Math.max(this.tat, performance.now() + (this.admitted - index) * this.rate.intervalMs);
  }

  /** The limiter's state on this process's clock, for the turn's next window. */
  get localTat(): number {
    return this.tat;
  }

  /** What to add to the stored state (ms on Redis's clock) so that it is an upper bound of the true one again. */
  shiftMs(): number {
    return this.tat - this.claim.sentAt - this.rate.aheadMs - this.reserved * this.rate.intervalMs;
  }
}
