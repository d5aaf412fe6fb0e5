import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { within } from '../lib/within.js';
import type { ReceiverLocks } from '../locks/types.js';
import { OPERATIONAL_EVENT_TYPES } from '../shapes/operational-events.js';
import type { QueueSnapshot } from './queue-snapshot.js';
import type { AttemptOutcome, MetricsSnapshot, ProcessReport } from './types.js';

const LAG_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600];
/** How long a scrape waits for Redis: past it the gauges read from Redis are left out and the rest answers. */
const STORE_READ_MS = 2000;
/** Every outcome, at none (a Record, so a new outcome cannot be left out). */
const NO_ATTEMPTS: Readonly<Record<AttemptOutcome, number>> = { delivered: 0, failed: 0, dead: 0, gone: 0, aborted: 0 };

/**
 * Prometheus metrics of one Lockstep process. Labels stay bounded: outcome, lock cause, state;
 * a receiver label only with `LOCKSTEP_METRICS_RECEIVER_LABELS=true` (for small fleets).
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly accepted: Counter;
  private readonly attempts: Counter;
  private readonly attemptSeconds: Histogram;
  private readonly lagSeconds: Histogram;
  private readonly acquireSeconds: Histogram;
  private readonly backendErrors: Counter;
  private readonly breakerOpenings: Counter;
  private readonly operationalEvents: Counter;
  /** Locks given up because the store refused their fence (see `lockFenced`). */
  private fencedLocks = 0;

  constructor(private readonly receiverLabels: boolean) {
    collectDefaultMetrics({ register: this.registry, prefix: 'lockstep_' });
    const registers = [this.registry];
    this.accepted = new Counter({ name: 'lockstep_messages_accepted_total', help: 'Messages accepted by intake', registers });
    const attemptLabels = receiverLabels ? ['outcome', 'receiver'] : ['outcome'];
    this.attempts = new Counter({ name: 'lockstep_delivery_attempts_total', help: 'Delivery attempts by outcome', labelNames: attemptLabels, registers });
    this.attemptSeconds = new Histogram({
      name: 'lockstep_attempt_duration_seconds',
      help: 'Duration of delivery attempts',
      labelNames: ['outcome'],
      registers,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    });
    this.lagSeconds = new Histogram({
      name: 'lockstep_delivery_lag_seconds',
      help: "From acceptance to the receiver's 2xx, for delivered messages (queueing, retries and backoff included)",
      registers,
      buckets: LAG_BUCKETS_S,
    });
    this.acquireSeconds = new Histogram({
      name: 'lockstep_lock_acquire_seconds',
      help: 'Time to take a receiver lock (including waiting)',
      registers,
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    });
    this.breakerOpenings = new Counter({
      name: 'lockstep_breaker_openings_total',
      help: "Times a receiver's circuit breaker opened (it then backs off as a whole, one probe per retry step)",
      registers,
    });
    this.operationalEvents = new Counter({
      name: 'lockstep_operational_events_total',
      help: 'Operational events (lockstep.…) this process stored for their subscribers, or gave up on (lost) after its tries',
      labelNames: ['type', 'result'],
      registers,
    });
    this.backendErrors = new Counter({
      name: 'lockstep_backend_errors_total',
      help: 'Errors talking to Redis or the lock backend',
      labelNames: ['backend'],
      registers,
    });
    // Series exported at 0 from the start: increase() sees the first dead delivery or backend error
    // after a restart, which a series born at 1 would hide (it has no earlier sample).
    if (!receiverLabels) for (const outcome of Object.keys(NO_ATTEMPTS)) this.attempts.inc({ outcome }, 0);
    for (const backend of ['redis', 'lock']) this.backendErrors.inc({ backend }, 0);
    for (const type of OPERATIONAL_EVENT_TYPES) for (const result of ['published', 'lost']) this.operationalEvents.inc({ type, result }, 0);
  }

  messagesAccepted(count: number): void {
    this.accepted.inc(count);
  }

  /** One attempt; `lagMs` (acceptance to now) counts for delivered ones. */
  attempt(receiverId: string, outcome: AttemptOutcome, durationMs: number, lagMs: number): void {
    this.attempts.inc(this.receiverLabels ? { outcome, receiver: receiverId } : { outcome });
    this.attemptSeconds.observe({ outcome }, durationMs / 1000);
    if (outcome === 'delivered') this.lagSeconds.observe(lagMs / 1000);
  }

  /** This process's counters in plain numbers, for the fleet report the dashboard reads. */
  async snapshot(): Promise<MetricsSnapshot> {
    const [accepted, attempts, lag, held] = await Promise.all([
      this.accepted.get(),
      this.attempts.get(),
      this.lagSeconds.get(),
      this.registry.getSingleMetric('lockstep_receivers_held')?.get(),
    ]);
    const byOutcome = { ...NO_ATTEMPTS };
    for (const { labels, value } of attempts.values) byOutcome[labels.outcome as AttemptOutcome] += value;
    const lagBuckets = lag.values
      .filter((sample) => sample.metricName === 'lockstep_delivery_lag_seconds_bucket' && sample.labels.le !== '+Inf')
      .map((sample): [number, number] => [Number(sample.labels.le) * 1000, sample.value]);
    return { accepted: accepted.values[0]?.value ?? 0, attempts: byOutcome, receiversHeld: held?.values[0]?.value ?? 0, lagBucketsMs: lagBuckets };
  }

  lockAcquired(waitedMs: number): void {
    this.acquireSeconds.observe(waitedMs / 1000);
  }

  /**
   * A lock given up because the store had seen a newer holder's fence: lost as surely as by a
   * failed renewal, but known only to the emitter (the lock backend still counted it as held), so
   * it is counted here and reported with the backend's causes.
   */
  lockFenced(): void {
    this.fencedLocks++;
  }

  breakerOpened(): void {
    this.breakerOpenings.inc();
  }

  /** An operational event stored for its subscribers, or given up on. */
  operationalEvent(type: string, result: 'published' | 'lost'): void {
    this.operationalEvents.inc({ type, result });
  }

  backendError(backend: 'redis' | 'lock'): void {
    this.backendErrors.inc({ backend });
  }

  /** Lock counters of this process, read from the backend at scrape time. */
  watchLocks(locks: ReceiverLocks, aborted: () => number): void {
    const registers = [this.registry];
    const fenced = (): number => this.fencedLocks;
    new Gauge({
      name: 'lockstep_receivers_held',
      help: 'Receivers whose lock this process holds now',
      registers,
      collect() {
        const stats = locks.stats();
        const lost = Object.values(stats.lost).reduce((sum, n) => sum + n, 0);
        this.set(stats.acquired - stats.releases - lost);
      },
    });
    new Counter({
      name: 'lockstep_locks_lost_total',
      help: 'Locks lost, by cause',
      labelNames: ['cause'],
      registers,
      collect() {
        this.reset();
        for (const [cause, count] of Object.entries(locks.stats().lost)) if (cause !== 'released' && cause !== 'shutdown') this.inc({ cause }, count);
        this.inc({ cause: 'fenced' }, fenced());
      },
    });
    new Counter({
      name: 'lockstep_lock_operations_total',
      help: 'Lock operations: acquire attempts, acquisitions, releases, session renewals',
      labelNames: ['op'],
      registers,
      collect() {
        this.reset();
        const stats = locks.stats();
        for (const [op, count] of [
          ['acquire_attempt', stats.acquireAttempts],
          ['acquired', stats.acquired],
          ['release', stats.releases],
          ['renewal', stats.renewals],
        ] as const)
          this.inc({ op }, count);
      },
    });
    new Counter({
      name: 'lockstep_requests_aborted_total',
      help: 'In-flight requests aborted because their lock was lost',
      registers,
      collect() {
        this.reset();
        this.inc(aborted());
      },
    });
  }

  /** The live processes by role, from the fleet reports at scrape time (API): an alert sees when no emitter runs. */
  watchFleet(roles: () => Promise<ProcessReport['role'][]>): void {
    new Gauge({
      name: 'lockstep_fleet_processes',
      help: 'Lockstep processes that reported lately (within 6 s), by role; emitters run as emitter or all',
      labelNames: ['role'],
      registers: [this.registry],
      async collect() {
        const live = await within(roles(), STORE_READ_MS, undefined);
        if (!live) return this.reset();
        for (const role of ['api', 'emitter', 'all'] as const) this.set({ role }, live.filter((one) => one === role).length);
      },
    });
  }

  /** Queue depth and oldest pending age per state, from the store's counters at scrape time (API). */
  watchQueues(snapshot: QueueSnapshot): void {
    const registers = [this.registry];
    new Gauge({
      name: 'lockstep_queue_depth',
      help: 'Deliveries waiting, by state (pending: not attempted yet; retrying: attempted, waiting for another attempt; dead)',
      labelNames: ['state'],
      registers,
      async collect() {
        const now = await within(snapshot.read(), STORE_READ_MS, undefined);
        if (!now) return this.reset();
        for (const state of ['pending', 'retrying', 'dead'] as const) this.set({ state }, now.depth[state]);
      },
    });
    new Gauge({
      name: 'lockstep_oldest_pending_age_seconds',
      help: 'Age of the oldest unfinished delivery, by state',
      labelNames: ['state'],
      registers,
      async collect() {
        const now = await within(snapshot.read(), STORE_READ_MS, undefined);
        if (!now) return this.reset();
        for (const state of ['pending', 'retrying'] as const) this.set({ state }, now.oldestAgeS[state]);
      },
    });
  }
}
