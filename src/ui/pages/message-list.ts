import { api } from '../api.js';
import type { MessageSummary, Page as ApiPage } from '../api-types.js';
import { fill, h, table } from '../dom.js';
import { ago } from '../format.js';
import { messageLink, poll } from './page.js';

const REFRESH_MS = 3000;
const SHOWN = 50;

/**
 * The most recent messages (a tenant token sees its own only), each linking to its deliveries, of
 * one event type when filtered (`invoice.*` too), 50 a page with Older and Newer; the page shown
 * refreshes until left.
 */
export function recentMessages(into: HTMLElement, status: HTMLElement): () => void {
  // the cursor of each older page opened, newest first: Newer goes back one
  const state = { eventType: '', cursors: [] as string[] };
  const list = h('div', {});
  let stopPolling = (): void => {};
  const show = (): void => {
    stopPolling();
    stopPolling = poll(REFRESH_MS, status, draw);
  };
  const button = (label: string, go: () => void): HTMLElement =>
    h(
      'button',
      {
        type: 'button',
        class: 'secondary',
        onclick: () => {
          go();
          show();
        },
      },
      label,
    );
  const draw = async (): Promise<void> => {
    const query = new URLSearchParams({ limit: String(SHOWN) });
    if (state.eventType) query.set('eventType', state.eventType);
    const cursor = state.cursors.at(-1);
    if (cursor) query.set('cursor', cursor);
    const page = await api<ApiPage<MessageSummary>>('GET', `/v1/messages?${query.toString()}`);
    const from = state.cursors.length * SHOWN;
    fill(
      list,
      table(
        ['message', 'event type', 'tenant', 'accepted', 'receivers'],
        page.data.map((message) => [messageLink(message.id), message.eventType, message.tenantId ?? '—', ago(message.createdAt), message.receiverIds.length]),
        state.eventType ? `No message of ${state.eventType}.` : 'No message yet.',
      ),
      h(
        'div',
        { class: 'section-tools' },
        state.cursors.length > 0 ? button('Newer', () => state.cursors.pop()) : null,
        page.next ? button('Older', () => page.next && state.cursors.push(page.next)) : null,
        page.data.length > 0 ? h('span', { class: 'sub' }, `messages ${from + 1}–${from + page.data.length}, newest first`) : null,
      ),
    );
  };
  const filter = h('input', { type: 'search', name: 'event-type', placeholder: 'all event types, or e.g. invoice.*', 'aria-label': 'event type', size: 30 });
  const form = h(
    'form',
    {
      class: 'filter',
      onsubmit: (event: Event) => {
        event.preventDefault();
        state.eventType = filter.value.trim();
        state.cursors = [];
        show();
      },
    },
    filter,
    h('button', { type: 'submit', class: 'secondary' }, 'Filter'),
  );
  fill(into, form, list);
  show();
  return () => stopPolling();
}
