import { api } from './api.js';
import type { Page, Receiver } from './api-types.js';

/** Every receiver, 500 at a time (the API's largest page). */
export async function allReceivers(): Promise<Receiver[]> {
  const receivers: Receiver[] = [];
  let cursor: string | null = null;
  do {
    const page: Page<Receiver> = await api('GET', `/v1/receivers?limit=500${cursor ? `&cursor=${cursor}` : ''}`);
    receivers.push(...page.data);
    cursor = page.next;
  } while (cursor);
  return receivers;
}
