/**
 * The clock every lock computation uses: monotonic milliseconds (`performance.now()`). A wall
 * clock that steps (NTP, a resumed VM) must neither keep a lock alive past its TTL nor lose one
 * early, so lock arithmetic never reads `Date.now()`; wall time is for display only.
 */
export function monotonicNow(): number {
  return performance.now();
}
