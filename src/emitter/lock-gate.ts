import { sleep } from '../lib/abort.js';
import type { Logger } from '../logger.js';

/** How often an emitter cut off from its lock service asks whether it answers again. */
export const PROBE_MS = 500;

/** What the gate does to the emitter's drain-queue workers. */
export interface GatedWorkers {
  pause(): Promise<void>;
  resume(): void;
}

/**
 * Whether this emitter takes drain jobs, as far as its lock service goes. An emitter that cannot
 * reach its lock service can serve no receiver, yet its workers would go on taking drain jobs, each
 * held through an acquire that cannot succeed while emitters that could serve the receiver wait.
 * So when the lock service may have stopped answering (an acquire failed; a lock was lost to its
 * deadline or a failed renewal) the workers pause and the service is pinged at once: a pause of
 * this process also passes deadlines, and then the ping answers and the workers go straight on.
 * Otherwise it is pinged every `PROBE_MS` until it answers. A job taken anyway (a worker's fetch
 * already under way) is handed back at once.
 */
export class LockServiceGate {
  private probing: Promise<void> | undefined;

  constructor(
    private readonly ping: () => Promise<boolean>,
    private readonly workers: GatedWorkers,
    private readonly log: Logger,
    /** Ends the probing for good (the emitter stops). */
    private readonly stopping: AbortSignal,
  ) {}

  /** True unless the lock service is being asked whether it answers. */
  get open(): boolean {
    return this.probing === undefined;
  }

  /** The lock service may not answer this process: take no job until it is known to. */
  suspect(why: string): void {
    if (this.probing || this.stopping.aborted) return;
    this.probing = this.probe(why).finally(() => (this.probing = undefined));
  }

  private async probe(why: string): Promise<void> {
    // the monotonic clock: the wall clock may have stepped meanwhile (the reason for some of these outages)
    const shutAt = performance.now();
    await this.workers.pause().catch(() => {});
    let answered = await this.answers();
    const silent = !answered;
    if (silent)
      this.log.warn(
        { why, probeMs: PROBE_MS },
        'lock service unreachable: this emitter takes no drain jobs until it answers; other emitters serve its receivers',
      );
    while (!answered && !this.stopping.aborted) {
      await sleep(PROBE_MS, this.stopping);
      answered = await this.answers();
    }
    if (this.stopping.aborted) return;
    if (silent) this.log.info({ downMs: Math.round(performance.now() - shutAt) }, 'lock service answers again: this emitter takes drain jobs again');
    this.workers.resume();
  }

  private answers(): Promise<boolean> {
    return this.stopping.aborted ? Promise.resolve(false) : this.ping().catch(() => false);
  }
}
