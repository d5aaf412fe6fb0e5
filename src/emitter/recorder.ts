import type { AttemptRecord, BreakerPolicy, Claim, DeliveryStore, Holder, RecordResult } from '../store/deliveries.js';

/** Outcomes waiting this many in a row go to the store without waiting for the window's end. */
const FLUSH_EVERY = 16;

/**
 * Records a window's attempts behind its requests: outcomes queue up and go to the store in
 * batches, one batch in flight at a time and in the order the attempts were made, so the next
 * request to the receiver never waits for a Redis round trip. `settle` writes what is left and
 * claims the next window in the same round trip. A crash loses at most the unrecorded outcomes:
 * their deliveries are claimed again by the next holder (same `webhook-id`: at least once).
 */
export class AttemptRecorder {
  private pending: AttemptRecord[] = [];
  private writing: Promise<void> = Promise.resolve();
  private failure: unknown;
  private refused = false;

  constructor(
    private readonly store: DeliveryStore,
    private readonly receiverId: string,
    private readonly holder: Holder,
    private readonly breaker: BreakerPolicy,
    /** Told of each written batch (statuses in the order of `records`), for metrics and logs. */
    private readonly recorded: (records: AttemptRecord[], result: RecordResult) => void,
  ) {}

  /** True once the store refused our fence: a newer holder has the receiver; send nothing more. */
  get fenced(): boolean {
    return this.refused;
  }

  add(record: AttemptRecord): void {
    this.pending.push(record);
    if (this.pending.length >= FLUSH_EVERY) {
      const batch = this.take();
      this.writing = this.writing.then(() => this.write(batch).then(() => undefined)).catch((error: unknown) => void (this.failure ??= error));
    }
  }

  /** Writes everything still waiting and, with `claimNext`, claims that many more in the same round trip. */
  async settle(claimNext?: number): Promise<{ fenced: boolean; next?: Claim }> {
    await this.writing;
    if (this.failure) throw this.failure;
    if (this.refused) return { fenced: true };
    const { fenced, next } = await this.write(this.take(), claimNext);
    return next ? { fenced, next } : { fenced };
  }

  private async write(batch: AttemptRecord[], claimNext?: number): Promise<{ fenced: boolean; next?: Claim }> {
    if (batch.length === 0 && !claimNext) return { fenced: this.refused };
    const { result, next } = await this.store.record(this.receiverId, this.holder, batch, this.breaker, this.refused ? undefined : claimNext);
    if (result.kind === 'fenced') this.refused = true;
    if (batch.length > 0) this.recorded(batch, result);
    return next ? { fenced: this.refused, next } : { fenced: this.refused };
  }

  private take(): AttemptRecord[] {
    const batch = this.pending;
    this.pending = [];
    return batch;
  }
}
