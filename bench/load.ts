import { Pool } from 'undici';
import { now, sleep } from './clock.js';

/** One HTTP request of a load run. */
export interface LoadRequest {
  path: string;
  body: string;
  headers?: Record<string, string>;
}

export interface LoadResult {
  /** 2xx answers completed inside the measured window. */
  completed: number;
  failed: number;
  /** Every answer, warm-up included (what a process's CPU over the whole run went to). */
  answered: number;
  seconds: number;
  perSecond: number;
}

/**
 * A load generator on ONE undici Pool (one connection per request in flight, no pipelining): the
 * same client for every baseline and every Lockstep figure, so ratios compare like with like.
 */
export class LoadClient {
  private readonly pool: Pool;

  constructor(
    origin: string,
    private readonly inFlight: number,
  ) {
    this.pool = new Pool(origin, { connections: inFlight, pipelining: 1, keepAliveTimeout: 60_000 });
  }

  /** POSTs `request`; resolves with the status once the body has been read. */
  async post({ path, body, headers }: LoadRequest): Promise<{ status: number; text: string }> {
    const response = await this.pool.request({ path, method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    return { status: response.statusCode, text: await response.body.text() };
  }

  /**
   * Closed loop: `inFlight` workers each send the next request as soon as the last one answered,
   * for `warmupMs` (not counted) and then `durationMs` (counted), or until `total` requests have
   * been sent. `next(i)` builds request i.
   */
  async closedLoop(
    next: (i: number) => LoadRequest,
    { durationMs = Infinity, warmupMs = 0, total = Infinity }: { durationMs?: number; warmupMs?: number; total?: number },
  ): Promise<LoadResult> {
    let sent = 0;
    let completed = 0;
    let failed = 0;
    let answered = 0;
    const started = now();
    const measureFrom = started + warmupMs;
    const endAt = measureFrom + durationMs;
    let lastEnd = started;
    await Promise.all(
      Array.from({ length: this.inFlight }, async () => {
        while (sent < total && now() < endAt) {
          const { status } = await this.post(next(sent++));
          const end = now();
          answered++;
          if (end < measureFrom || end > endAt) continue;
          if (status >= 200 && status < 300) completed++;
          else failed++;
          lastEnd = end;
        }
      }),
    );
    const seconds = (Math.min(endAt, lastEnd) - measureFrom) / 1000;
    return { completed, failed, answered, seconds, perSecond: completed / seconds };
  }

  /**
   * Open loop: starts request i at `i / perSecond` seconds, whatever the previous ones are doing,
   * for `durationMs`. Returns, per request, when it was sent and when its answer came.
   */
  async openLoop(
    next: (i: number) => LoadRequest,
    perSecond: number,
    durationMs: number,
  ): Promise<{ sentAt: number; answeredAt: number; status: number; text: string }[]> {
    const count = Math.floor((perSecond * durationMs) / 1000);
    const started = now();
    const pending: Promise<{ sentAt: number; answeredAt: number; status: number; text: string }>[] = [];
    for (let i = 0; i < count; i++) {
      const wait = started + (i * 1000) / perSecond - now();
      if (wait > 1) await sleep(wait);
      const sentAt = now();
      pending.push(this.post(next(i)).then(({ status, text }) => ({ sentAt, answeredAt: now(), status, text })));
    }
    return Promise.all(pending);
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

/** The body the baselines send to the receiver: about the size of a Lockstep webhook body. */
export function webhookLikeRequest(path: string, i: number): LoadRequest {
  return {
    path,
    body: JSON.stringify({ type: 'bench.baseline', timestamp: new Date().toISOString(), data: { n: i }, fence: 1 }),
    headers: {
      'webhook-id': `base_${i}`,
      'webhook-timestamp': String(Math.floor(Date.now() / 1000)),
      'webhook-signature': 'v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=',
    },
  };
}
