import type { QueueState, Store } from '../store/index.js';

/**
 * One read of the queue statistics per scrape (and per stats request), shared by the queue gauges:
 * a few Redis commands whatever the number of receivers (the store keeps counters).
 */
export class QueueSnapshot {
  private last: { at: number; value: Promise<QueueState> } | undefined;

  constructor(private readonly store: Store) {}

  read(): Promise<QueueState> {
    if (!this.last || Date.now() - this.last.at > 500) this.last = { at: Date.now(), value: this.store.queueStats.read() };
    return this.last.value;
  }
}
