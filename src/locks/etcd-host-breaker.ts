import { isRecoverableError, type IOptions } from 'etcd3';
import { monotonicNow } from './clock.js';

/** etcd3's per-host fault policy (`faultHandling.host`): cockatiel's IPolicy, named through etcd3's own options. */
type HostPolicy = ReturnType<NonNullable<NonNullable<IOptions['faultHandling']>['host']>>;

export interface HostBreakerOptions {
  /** Recoverable failures in a row that make the client skip the host (etcd3's default: 3). */
  failures: number;
  /** How long it is skipped then (etcd3's default: 5 s). */
  skipMs: number;
}

const DEFAULTS: HostBreakerOptions = { failures: 3, skipMs: 5000 };

/** A policy event nobody listens to: etcd3 subscribes to none of a host policy's. */
const noEvent = (): { dispose(): void } => ({ dispose() {} });

/**
 * The etcd client's per-host circuit breaker, timed on the monotonic clock. etcd3's default
 * (cockatiel's `circuitBreaker`) measures how long a host has been skipped on the wall clock: after a
 * backward step it refuses every call to the host for as long as the step. In the chaos run (seed
 * 5201 on etcd) all three emitters, their clocks stepped back 120–240 s right after an etcd restart
 * had opened their breakers, took no drain job for the whole settle phase. The rule is etcd3's
 * otherwise: after `failures` recoverable failures in a row the host's calls fail at once for
 * `skipMs` (the pool tries another host), then go through again.
 */
export class EtcdHostBreaker implements HostPolicy {
  declare readonly _altReturn: never;
  readonly onSuccess = noEvent;
  readonly onFailure = noEvent;
  private failuresInARow = 0;
  private skipUntil = 0;

  constructor(
    private readonly host: string,
    private readonly options: HostBreakerOptions = DEFAULTS,
  ) {}

  async execute<T>(fn: (context: { signal: AbortSignal }) => PromiseLike<T> | T, signal: AbortSignal = new AbortController().signal): Promise<T> {
    if (monotonicNow() < this.skipUntil) throw new Error(`etcd host ${this.host} skipped: ${this.options.failures} calls in a row failed`);
    try {
      const result = await fn({ signal });
      this.failuresInARow = 0;
      return result;
    } catch (error) {
      if (error instanceof Error && isRecoverableError(error) && ++this.failuresInARow >= this.options.failures) {
        this.failuresInARow = 0;
        this.skipUntil = monotonicNow() + this.options.skipMs;
      }
      throw error;
    }
  }
}
