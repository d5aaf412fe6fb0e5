import type { ApiClient } from './lockstep.js';
import type { RecordedRequest } from './receiver.js';

/** Queues `count` messages for one receiver through batch intake; their ids in acceptance order. */
export async function queueFor(client: ApiClient, receiverId: string, count: number, eventType = 'flow.test'): Promise<string[]> {
  const ids: string[] = [];
  for (let from = 0; from < count; from += 500) {
    const messages = Array.from({ length: Math.min(500, count - from) }, (_, i) => ({ eventType, payload: { n: from + i }, receiverIds: [receiverId] }));
    const { status, body } = await client.request<{ data: { id: string }[] }>('POST', '/v1/messages/batch', { messages });
    if (status !== 202) throw new Error(`batch intake answered ${status}: ${JSON.stringify(body)}`);
    ids.push(...body.data.map((m) => m.id));
  }
  return ids;
}

/**
 * The worst breach of `burst + rate × t` over every pair of arrivals (i ≤ j: j − i + 1 requests
 * within t = at[j] − at[i]), with `jitterMs` added to every t: arrival times are taken in
 * whole milliseconds by a receiver whose event loop runs late now and then. Returns the pair
 * that exceeds it most (excess > 0 is a breach).
 */
export function worstRateExcess(at: number[], ratePerSecond: number, burst: number, jitterMs: number): { excess: number; count: number; windowMs: number } {
  const sorted = [...at].sort((a, b) => a - b);
  let worst = { excess: -Infinity, count: 0, windowMs: 0 };
  for (let i = 0; i < sorted.length; i++) {
    for (let j = i; j < sorted.length; j++) {
      const windowMs = (sorted[j] ?? 0) - (sorted[i] ?? 0);
      const excess = j - i + 1 - (burst + (ratePerSecond * (windowMs + jitterMs)) / 1000);
      if (excess > worst.excess) worst = { excess, count: j - i + 1, windowMs };
    }
  }
  return worst;
}

/** The most requests in flight at once among `requests`, counted at each start at or after `from`. */
export function peakConcurrency(requests: RecordedRequest[], from = -Infinity): number {
  let peak = 0;
  for (const r of requests) {
    if (r.start < from) continue;
    peak = Math.max(peak, requests.filter((o) => o.start <= r.start && o.end > r.start).length);
  }
  return peak;
}

/** The most arrivals within any `spanMs` window, per second: the rate a receiver reached. */
export function bestRate(at: number[], spanMs: number): number {
  const sorted = [...at].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; j < sorted.length; j++) {
    while ((sorted[j] ?? 0) - (sorted[i] ?? 0) > spanMs) i++;
    best = Math.max(best, j - i + 1);
  }
  return (best * 1000) / spanMs;
}
