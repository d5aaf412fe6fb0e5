/** Resolves after `ms`, or early (without throwing) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}

/** A signal that aborts when any of its sources does, and a `dispose` that unhooks it from them. */
export interface LinkedSignal {
  readonly signal: AbortSignal;
  dispose(): void;
}

/**
 * `AbortSignal.any` for short-lived uses of long-lived signals: `AbortSignal.any` keeps a record
 * on every source until the result is garbage-collected (measured on Node 20: ~65 bytes per call
 * that a process-long signal never gives back), so a call per request or per wait leaks. This
 * one removes its listeners when disposed.
 */
export function linkSignals(...sources: (AbortSignal | undefined)[]): LinkedSignal {
  const controller = new AbortController();
  const live = sources.filter((source): source is AbortSignal => source !== undefined);
  const onAbort = (event: Event): void => {
    dispose();
    controller.abort((event.target as AbortSignal).reason);
  };
  function dispose(): void {
    for (const source of live) source.removeEventListener('abort', onAbort);
  }
  const already = live.find((source) => source.aborted);
  if (already) controller.abort(already.reason);
  else for (const source of live) source.addEventListener('abort', onAbort, { once: true });
  return { signal: controller.signal, dispose };
}

/** Runs `use` with a signal linked to `sources`, and unhooks it from them when `use` settles. */
export async function withLinkedSignal<T>(sources: (AbortSignal | undefined)[], use: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const linked = linkSignals(...sources);
  try {
    return await use(linked.signal);
  } finally {
    linked.dispose();
  }
}
