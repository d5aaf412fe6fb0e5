import { setImmediate as nextTurn } from 'node:timers/promises';
import type { AttemptRecord, BreakerPolicy, Claim, ClaimedDelivery, DeliveryStore, Holder, InFlight, NextClaim, RecordResult } from '../store/deliveries.js';

/**
 * Outcomes waiting this many in a row go to the store at once (a window's worth; the next window
 * of a hot receiver is claimed ahead, beside these writes)...
 */
const FLUSH_EVERY = 32;
/**
 * ...and none waits longer than this, so what a slow receiver got shows soon. Each batch costs ~10
 * Redis commands of its own (the receiver's health, stats and heads): at 20 ms, a fan-out's
 * receivers answering every 20-40 ms under load each wrote batches of one or two (issue 13).
 */
export const FLUSH_AFTER_MS = 1000;

/**
 * Records a window's attempts behind its requests: outcomes queue up and go to the store in
 * batches (32, or whatever waited 1 s), one batch in flight at a time and in the order the
 * attempts were made, so the next request to the receiver never waits for a Redis round trip.
 * `settle` writes what is left and claims the next window in the same round trip (at the end of a
 * run of windows: a window claimed ahead needs no settle, see `extend`). A crash loses
 * at most the unrecorded outcomes: their deliveries are claimed again by the next holder (same
 * `webhook-id`: at least once). Each write also tells whether to stop: the store refused our
 * fence (a newer holder), or the receiver was disabled or deleted meanwhile.
 *
 * Lanes end their requests out of order, so each batch also says how far the receiver's frontier
 * may move: to the last first attempt of the window before which every first attempt has been
 * added (recorded in this batch or an earlier one). A crash then never leaves a first attempt
 * below the frontier unrecorded. With one lane this is simply the batch's last first attempt.
 *
 * A window claimed ahead (drain.ts) joins the same recorder (`extend`), so its outcomes are written
 * after the previous window's, in one chain; `inFlight` tells the claim ahead what is claimed and
 * not recorded yet.
 */
export class AttemptRecorder {
  private pending: AttemptRecord[] = [];
  private writing: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private failure: Error | undefined;
  private refused = false;
  private disabled = false;
  /** The window's first attempts, in acceptance order, and how many of them (a prefix) have ended. */
  private readonly firstAttempts: number[];
  private readonly ended = new Set<number>();
  private prefix = 0;
  /** The retries claimed whose outcome is not written yet (message ids): a claim ahead leaves them out. */
  private readonly retriesOut = new Set<string>();

  constructor(
    private readonly store: DeliveryStore,
    private readonly receiverId: string,
    private readonly holder: Holder,
    private readonly breaker: BreakerPolicy,
    /** Told of each written batch (statuses in the order of `records`), for metrics and logs. */
    private readonly recorded: (records: AttemptRecord[], result: RecordResult) => void,
    window: readonly ClaimedDelivery[],
  ) {
    this.firstAttempts = [];
    this.extend(window);
  }

  /** Adds the next window, claimed ahead: its first attempts come after this one's in acceptance order. */
  extend(window: readonly ClaimedDelivery[]): void {
    for (const delivery of window) {
      if (delivery.retry) this.retriesOut.add(delivery.messageId);
      else this.firstAttempts.push(delivery.seq);
    }
  }

  /** What a claim ahead must leave out: first attempts up to the last claimed, and the retries not recorded yet. */
  inFlight(): InFlight {
    return { seq: this.firstAttempts.at(-1) ?? 0, retries: [...this.retriesOut] };
  }

  /** True once the store refused our fence: a newer holder has the receiver. */
  get fenced(): boolean {
    return this.refused;
  }

  /** True once nothing more may be sent in this window: fenced, or the receiver disabled or deleted. */
  get halted(): boolean {
    return this.refused || this.disabled || this.failure !== undefined;
  }

  add(record: AttemptRecord): void {
    this.pending.push(record);
    if (!record.delivery.retry) {
      this.ended.add(record.delivery.seq);
      while (this.prefix < this.firstAttempts.length && this.ended.has(this.firstAttempts[this.prefix] ?? -1)) this.prefix++;
    }
    if (this.pending.length >= FLUSH_EVERY) this.flushBehind();
    else this.timer ??= setTimeout(() => this.flushBehind(), FLUSH_AFTER_MS);
  }

  /**
   * Writes everything still waiting (with the window's rate-limit correction, see pacer.ts) and,
   * with `claimNext`, claims that many more in the same round trip.
   */
  async settle(claimNext?: NextClaim, tatShiftMs = 0): Promise<{ fenced: boolean; next?: Claim }> {
    this.stopTimer();
    await this.writing;
    if (this.failure) throw this.failure;
    if (this.refused) return { fenced: true };
    return this.write(this.take(), this.frontier(), this.disabled ? undefined : claimNext, tatShiftMs);
  }

  private flushBehind(): void {
    this.stopTimer();
    const batch = this.take();
    if (batch.length === 0) return;
    const frontier = this.frontier();
    // After a failed write nothing more is written: a later batch would move the frontier over the
    // failed one's first attempts, which would then never be sent. The turn fails at settle and the
    // next holder sends everything unrecorded again.
    // started on the next turn of the event loop, not in the middle of this one: building a batch's
    // arguments takes ~1 ms, and the other lanes' answers of this turn go on to their next request first
    this.writing = this.writing
      .then(() => nextTurn())
      .then(() => (this.failure ? undefined : this.write(batch, frontier).then(() => undefined)))
      .catch((error: unknown) => void (this.failure ??= error instanceof Error ? error : new Error(String(error))));
  }

  /** The last first attempt of the ended prefix of the window (0: none yet). */
  private frontier(): number {
    return this.prefix > 0 ? (this.firstAttempts[this.prefix - 1] ?? 0) : 0;
  }

  private async write(batch: AttemptRecord[], frontier = this.frontier(), claimNext?: NextClaim, tatShiftMs = 0): Promise<{ fenced: boolean; next?: Claim }> {
    if (batch.length === 0 && !claimNext && tatShiftMs === 0) return { fenced: this.refused };
    const { result, next } = await this.store.record(this.receiverId, this.holder, { records: batch, frontier, tatShiftMs }, this.breaker, claimNext);
    if (result.kind === 'fenced') this.refused = true;
    else if (!result.enabled) this.disabled = true;
    for (const { delivery } of batch) this.retriesOut.delete(delivery.messageId);
    if (batch.length > 0) this.recorded(batch, result);
    return next ? { fenced: this.refused, next } : { fenced: this.refused };
  }

  private stopTimer(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private take(): AttemptRecord[] {
    const batch = this.pending;
    this.pending = [];
    return batch;
  }
}
