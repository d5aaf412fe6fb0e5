/** The p-th percentile (0..100) of `values`, nearest-rank; NaN when empty. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

/**
 * Groups the times of late events into episodes (runs with gaps under `gapMs`): says whether a
 * tail comes from one stall or is spread over the run. Returns the count and the longest span.
 */
export function episodes(times: number[], gapMs: number): { count: number; longestMs: number } {
  const sorted = [...times].sort((a, b) => a - b);
  let count = 0;
  let longestMs = 0;
  let start = NaN;
  sorted.forEach((t, i) => {
    if (i === 0 || t - (sorted[i - 1] as number) > gapMs) {
      count++;
      start = t;
    }
    longestMs = Math.max(longestMs, t - start);
  });
  return { count, longestMs };
}
