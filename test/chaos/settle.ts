import type { ApiClient, MessageView } from '../support/lockstep.js';
import type { AcceptedMessage } from './workload.js';

const FINAL = new Set(['delivered', 'dead', 'cancelled']);

export function isFinal(view: MessageView | undefined): boolean {
  return !!view && view.deliveries.length > 0 && view.deliveries.every((d) => FINAL.has(d.status));
}

/**
 * The settle phase: reads every accepted message from the API until all are final (delivered,
 * dead) or `timeoutMs` has passed. Final messages are not read again. Returns the last view of each.
 */
export async function settle(
  client: ApiClient,
  accepted: AcceptedMessage[],
  timeoutMs: number,
): Promise<{ views: Map<string, MessageView>; settledAfterMs: number | undefined }> {
  const views = new Map<string, MessageView>();
  const startedAt = Date.now();
  for (;;) {
    const open = accepted.filter((m) => !isFinal(views.get(m.id)));
    await inBatches(open, 16, async (m) => {
      const { status, body } = await client.request<MessageView>('GET', `/v1/messages/${m.id}`).catch(() => ({ status: 0, body: undefined }));
      if (status === 200 && body) views.set(m.id, body);
    });
    if (accepted.every((m) => isFinal(views.get(m.id)))) return { views, settledAfterMs: Date.now() - startedAt };
    if (Date.now() - startedAt > timeoutMs) return { views, settledAfterMs: undefined };
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

async function inBatches<T>(items: T[], size: number, each: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(each));
}
