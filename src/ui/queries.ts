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

/**
 * Receiver id → URL, read at most every 10 s: pages that show ids show where they point. An id the
 * map does not hold (a receiver created since, or deleted) reads it again, once per id.
 */
let urls: { at: number; byId: Promise<Map<string, string>>; sought: Set<string> } | undefined;

export async function receiverUrls(ids: readonly string[]): Promise<Map<string, string>> {
  if (!urls || Date.now() - urls.at > 10_000) urls = readUrls(new Set());
  const current = urls;
  const byId = await current.byId;
  const unknown = ids.filter((id) => !byId.has(id) && !current.sought.has(id));
  if (unknown.length === 0) return byId;
  urls = readUrls(new Set([...current.sought, ...unknown]));
  return urls.byId;
}

function readUrls(sought: Set<string>): NonNullable<typeof urls> {
  const byId = allReceivers().then((receivers) => new Map(receivers.map((receiver) => [receiver.id, receiver.url])));
  byId.catch(() => (urls = undefined));
  return { at: Date.now(), byId, sought };
}
