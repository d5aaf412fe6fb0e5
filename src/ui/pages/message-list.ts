import { api } from '../api.js';
import type { MessageSummary, Page as ApiPage } from '../api-types.js';
import { fill, h, table } from '../dom.js';
import { ago } from '../format.js';
import { messageLink, poll } from './page.js';

const REFRESH_MS = 3000;
const SHOWN = 50;

/** The most recent messages (a tenant token sees its own only), each linking to its deliveries; refreshes until stopped. */
export function recentMessages(into: HTMLElement, status: HTMLElement): () => void {
  return poll(REFRESH_MS, status, async () => {
    const page = await api<ApiPage<MessageSummary>>('GET', `/v1/messages?limit=${SHOWN}`);
    fill(
      into,
      table(
        ['message', 'event type', 'tenant', 'accepted', 'receivers'],
        page.data.map((message) => [messageLink(message.id), message.eventType, message.tenantId ?? '—', ago(message.createdAt), message.receiverIds.length]),
        'No message yet.',
      ),
      page.next ? h('p', { class: 'sub' }, `Showing the ${SHOWN} most recent.`) : null,
    );
  });
}
