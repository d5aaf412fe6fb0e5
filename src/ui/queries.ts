import { api } from './api.js';
import type { Page, Receiver } from './api-types.js';

/** Every receiver (or every one of a tenant), 500 at a time (the API's largest page). */
export async function allReceivers(tenantId?: string): Promise<Receiver[]> {
  const receivers: Receiver[] = [];
  const tenant = tenantId ? `&tenantId=${encodeURIComponent(tenantId)}` : '';
  let cursor: string | null = null;
  do {
    const page: Page<Receiver> = await api('GET', `/v1/receivers?limit=500${tenant}${cursor ? `&cursor=${cursor}` : ''}`);
    receivers.push(...page.data);
    cursor = page.next;
  } while (cursor);
  return receivers;
}

/** Receiver id → URL, read at most every 10 s: pages that show ids show where they point. */
let urls: { at: number; byId: Promise<Map<string, string>> } | undefined;

export function receiverUrls(): Promise<Map<string, string>> {
  if (!urls || Date.now() - urls.at > 10_000) {
    const byId = allReceivers().then((receivers) => new Map(receivers.map((receiver) => [receiver.id, receiver.url])));
    urls = { at: Date.now(), byId };
    byId.catch(() => (urls = undefined));
  }
  return urls.byId;
}
