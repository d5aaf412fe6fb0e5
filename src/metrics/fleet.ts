import { hostname } from 'node:os';
import type { Logger } from '../logger.js';
import type { Store } from '../store/index.js';
import type { Metrics } from './metrics.js';
import type { ProcessReport } from './types.js';

export const REPORT_EVERY_MS = 2000;
/** A process not heard from for this long is gone (killed, paused or cut off). */
const FORGET_AFTER_MS = 3 * REPORT_EVERY_MS;

/**
 * Publishes this process's counters to Redis, so the API can show the whole fleet (who runs,
 * what each delivered, how late) without scraping every emitter. Costs two commands per process
 * per report, nothing per delivery.
 */
export class FleetReporter {
  private timer: NodeJS.Timeout | undefined;
  private readonly startedAt = new Date().toISOString();

  constructor(
    private readonly store: Store,
    private readonly metrics: Metrics,
    private readonly identity: { id: string; role: ProcessReport['role']; version: string },
    private readonly log: Logger,
  ) {}

  start(): void {
    const tick = (): void => {
      this.report().catch((error: unknown) => this.log.debug({ err: error }, 'fleet report not written'));
      this.timer = setTimeout(tick, REPORT_EVERY_MS).unref();
    };
    tick();
  }

  /** Stops reporting and takes this process off the list at once (a stopped process is not "gone"). */
  async stop(): Promise<void> {
    clearTimeout(this.timer);
    await this.store.fleet.remove(this.identity.id).catch(() => {});
  }

  private async report(): Promise<void> {
    const report: ProcessReport = {
      ...this.identity,
      host: hostname(),
      pid: process.pid,
      startedAt: this.startedAt,
      reportedAt: new Date().toISOString(),
      ...(await this.metrics.snapshot()),
    };
    await this.store.fleet.write(this.identity.id, JSON.stringify(report), FORGET_AFTER_MS);
  }
}

/** The processes that reported lately, oldest first. */
export async function readFleet(store: Store): Promise<ProcessReport[]> {
  const reports = await store.fleet.read(FORGET_AFTER_MS);
  return reports.map((json) => JSON.parse(json) as ProcessReport).sort((a, b) => a.startedAt.localeCompare(b.startedAt));
}
