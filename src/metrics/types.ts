/** The shapes of the fleet report and /v1/stats (pure types: the dashboard compiles against them too). */

export type AttemptOutcome = 'delivered' | 'failed' | 'dead' | 'gone' | 'aborted';

/** One process's counters in plain numbers. */
export interface MetricsSnapshot {
  accepted: number;
  attempts: Record<AttemptOutcome, number>;
  receiversHeld: number;
  /** Cumulative delivered-lag counts: [bucket upper bound in ms, deliveries at or under it]. */
  lagBucketsMs: [number, number][];
}

/** What every running Lockstep process says about itself, every few seconds, in Redis. */
export interface ProcessReport extends MetricsSnapshot {
  id: string;
  role: 'all' | 'api' | 'emitter';
  host: string;
  pid: number;
  version: string;
  startedAt: string;
  reportedAt: string;
}

export interface QueueState {
  depth: { pending: number; retrying: number; dead: number };
  oldestAgeS: { pending: number; retrying: number };
}

/** GET /v1/stats */
export interface FleetStats {
  at: string;
  lockBackend: string;
  queue: QueueState;
  processes: ProcessReport[];
}
