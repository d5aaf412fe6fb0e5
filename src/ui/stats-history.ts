import type { ProcessReport, Stats } from './api-types.js';

/** Rates and latency between two reads of /v1/stats, from the processes present in both. */
export interface Interval {
  acceptedPerS: number;
  deliveredPerS: number;
  failedPerS: number;
  lagP50Ms: number | null;
  lagP99Ms: number | null;
}

/** Keeps the last few minutes of intervals while the tab is open (across page changes). */
export class StatsHistory {
  private last: Stats | undefined;
  readonly intervals: Interval[] = [];

  constructor(readonly size: number) {}

  add(stats: Stats): void {
    if (this.last) {
      const seconds = (Date.parse(stats.at) - Date.parse(this.last.at)) / 1000;
      if (seconds > 0) this.intervals.push(between(this.last.processes, stats.processes, seconds));
      if (this.intervals.length > this.size) this.intervals.shift();
    }
    this.last = stats;
  }
}

function between(before: ProcessReport[], after: ProcessReport[], seconds: number): Interval {
  const earlier = new Map(before.map((report) => [report.id, report]));
  let [accepted, delivered, failed] = [0, 0, 0];
  const lag = new Map<number, number>();
  for (const now of after) {
    const then = earlier.get(now.id);
    if (!then) continue; // a process that just started: its totals are not a rate yet
    accepted += now.accepted - then.accepted;
    delivered += now.attempts.delivered - then.attempts.delivered;
    failed += now.attempts.failed + now.attempts.dead + now.attempts.gone - (then.attempts.failed + then.attempts.dead + then.attempts.gone);
    const previous = new Map(then.lagBucketsMs);
    for (const [bound, count] of now.lagBucketsMs) lag.set(bound, (lag.get(bound) ?? 0) + count - (previous.get(bound) ?? 0));
  }
  const buckets = [...lag.entries()].sort((a, b) => a[0] - b[0]);
  return {
    acceptedPerS: accepted / seconds,
    deliveredPerS: delivered / seconds,
    failedPerS: failed / seconds,
    lagP50Ms: quantile(buckets, delivered, 0.5),
    lagP99Ms: quantile(buckets, delivered, 0.99),
  };
}

/** Prometheus-style estimate: linear within the bucket the quantile falls in. */
function quantile(cumulative: [number, number][], total: number, q: number): number | null {
  if (total <= 0) return null;
  const rank = q * total;
  let [lowerBound, lowerCount] = [0, 0];
  for (const [bound, count] of cumulative) {
    if (count >= rank) return lowerBound + ((bound - lowerBound) * (rank - lowerCount)) / Math.max(1, count - lowerCount);
    [lowerBound, lowerCount] = [bound, count];
  }
  return lowerBound; // beyond the last bucket: at least this much
}
