import type { BenchReceiver } from './receiver-control.js';
import type { Row } from './report.js';
import type { Backend } from './stack.js';

/** How big each scenario is; `--quick` uses the small set. */
export interface Sizes {
  hotMessages: number;
  /**
   * Arrivals left out at the start of the hot receiver's two rates (sent on top of `hotMessages`):
   * the benchmark's control calls (reset, stats, /metrics) deoptimize the undici and stream code of
   * the processes they reach, and at 1 request in flight the raw client regained its pace only after
   * ~3,000 requests (bench/README.md, "Session 18").
   */
  hotLeadIn: number;
  /** Longest a drain (hot receiver, fan-out) is measured; a slower one is measured over what arrived. */
  drainBudgetMs: number;
  /** How long the literal-design baseline runs (it never drains a backlog: its rate is measured over this). */
  literalBudgetMs: number;
  fanoutReceivers: number;
  fanoutDeliveries: number;
  /** Measured time of each throughput run after its warm-up. */
  intakeMs: number;
  warmupMs: number;
  latencyMs: number;
  latencyRate: number;
  failoverMessages: number;
  /** Holders killed in the failover scenario (the worst is reported). */
  failoverRounds: number;
  /** Rounds of each lock-loss scenario (the worst is reported). */
  lockLossRounds: number;
  /** How long the soak scenario runs, and the retention it runs with. */
  soakMs: number;
  soakRetentionMs: number;
}

export const FULL: Sizes = {
  hotMessages: 5000,
  hotLeadIn: 3000,
  drainBudgetMs: 60_000,
  literalBudgetMs: 60_000,
  fanoutReceivers: 1000,
  fanoutDeliveries: 20_000,
  intakeMs: 10_000,
  warmupMs: 2000,
  latencyMs: 20_000,
  latencyRate: 200,
  failoverMessages: 12_000,
  failoverRounds: 3,
  lockLossRounds: 5,
  soakMs: 300_000,
  soakRetentionMs: 30_000,
};
export const QUICK: Sizes = {
  hotMessages: 3000,
  hotLeadIn: 2000,
  drainBudgetMs: 15_000,
  literalBudgetMs: 5_000,
  fanoutReceivers: 200,
  fanoutDeliveries: 4000,
  intakeMs: 3000,
  warmupMs: 1000,
  latencyMs: 4000,
  latencyRate: 200,
  failoverMessages: 8000,
  failoverRounds: 2,
  lockLossRounds: 2,
  soakMs: 40_000,
  soakRetentionMs: 15_000,
};

/** The lock TTL of the failover and lock-loss scenarios (the 2 s). */
export const SHORT_TTL_MS = 2000;

/** What every scenario gets: the shared receiver process, the sizes, the options. */
export interface BenchContext {
  sizes: Sizes;
  receiver: BenchReceiver;
  /** Write a CPU profile of the hot-receiver emitter (`--profile`). */
  profileDir: string | undefined;
  log(line: string): void;
}

/** A scenario that runs once per lock backend. */
export type BackendScenario = (ctx: BenchContext, backend: Backend) => Promise<Row[]>;
