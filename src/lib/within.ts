/**
 * `work`'s value, or `fallback` once it fails or has taken `ms`: for a check or a scrape that must
 * answer in time, where Redis commands wait (queued) for as long as Redis is away.
 */
export function within<T, F>(work: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<F>((resolve) => {
    timer = setTimeout(resolve, ms, fallback).unref();
  });
  return Promise.race([work.catch(() => fallback), late]).finally(() => clearTimeout(timer));
}
