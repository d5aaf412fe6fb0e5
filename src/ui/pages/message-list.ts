import { api } from '../api.js';
import type { DeliveryStatus, MessageSummary, Page as ApiPage } from '../api-types.js';
import { fill, h, table } from '../dom.js';
import { ago } from '../format.js';
import { action, DELIVERY_TONES, messageLink, pill, poll, receiverLink, routeOf } from './page.js';

const REFRESH_MS = 3000;
const SHOWN = 50;
const STATUSES = Object.keys(DELIVERY_TONES) as DeliveryStatus[];

/** What the list is narrowed to; `#/messages?receiverId=…&status=…` opens it so (a receiver's page links here). */
interface Filter {
  eventType: string;
  receiverId: string;
  status: string;
  /** When the messages were accepted: from (inclusive) and before, as ISO times ('' = open). */
  since: string;
  until: string;
}

/**
 * The most recent messages (a tenant token sees its own only), each with where its deliveries
 * stand and linking to their attempts, narrowed by event type (`invoice.*` too), receiver,
 * delivery status and a time window, 50 a page with Older and Newer; the page shown refreshes until left.
 */
export function recentMessages(into: HTMLElement, status: HTMLElement): () => void {
  const asked = routeOf(window.location.hash).query;
  const filter: Filter = { eventType: '', receiverId: asked.get('receiverId') ?? '', status: asked.get('status') ?? '', since: '', until: '' };
  // the cursor of each older page opened, newest first: Newer goes back one
  let cursors: string[] = [];
  const list = h('div', {});
  let stopPolling = (): void => {};
  const show = (): void => {
    stopPolling();
    stopPolling = poll(REFRESH_MS, status, draw);
  };
  const button = (label: string, go: () => void): HTMLElement =>
    action(label, () => {
      go();
      show();
      return Promise.resolve();
    });
  const draw = async (): Promise<void> => {
    const query = new URLSearchParams({ limit: String(SHOWN) });
    for (const name of ['eventType', 'receiverId', 'status', 'since', 'until'] as const) if (filter[name]) query.set(name, filter[name]);
    const cursor = cursors.at(-1);
    if (cursor) query.set('cursor', cursor);
    const page = await api<ApiPage<MessageSummary>>('GET', `/v1/messages?${query.toString()}`);
    const from = cursors.length * SHOWN;
    fill(
      list,
      filter.receiverId
        ? h(
            'p',
            { class: 'sub' },
            'Sent to ',
            receiverLink(filter.receiverId),
            ' ',
            button('Show every receiver', () => clearReceiver()),
          )
        : null,
      table(
        ['message', 'event type', 'tenant', 'accepted', 'deliveries'],
        page.data.map((message) => [
          messageLink(message.id),
          message.eventType,
          message.tenantId ?? '—',
          ago(message.createdAt),
          deliveries(message, filter.receiverId),
        ]),
        Object.values(filter).some(Boolean) ? 'No message matches.' : 'No message yet.',
      ),
      h(
        'div',
        { class: 'section-tools' },
        cursors.length > 0 ? button('Newer', () => cursors.pop()) : null,
        page.next ? button('Older', () => page.next && cursors.push(page.next)) : null,
        page.data.length > 0 ? h('span', { class: 'sub' }, `messages ${from + 1}–${from + page.data.length}, newest first`) : null,
      ),
    );
  };
  const clearReceiver = (): void => {
    filter.receiverId = '';
    cursors = [];
    history.replaceState(null, '', '#/messages');
  };
  const eventType = h('input', { type: 'search', name: 'event-type', placeholder: 'all event types, or e.g. invoice.*', 'aria-label': 'event type', size: 30 });
  const statusPick = h(
    'select',
    { name: 'status', 'aria-label': 'delivery status' },
    h('option', { value: '' }, 'any status'),
    STATUSES.map((name) => h('option', { value: name, selected: name === filter.status }, `a delivery ${name}`)),
  );
  const since = h('input', { type: 'datetime-local', name: 'since', 'aria-label': 'accepted from' });
  const until = h('input', { type: 'datetime-local', name: 'until', 'aria-label': 'accepted before' });
  const form = h(
    'form',
    {
      class: 'filter',
      onsubmit: (event: Event) => {
        event.preventDefault();
        filter.eventType = eventType.value.trim();
        filter.status = statusPick.value;
        // the inputs hold the browser's local time; the API takes an absolute one
        filter.since = since.value ? new Date(since.value).toISOString() : '';
        filter.until = until.value ? new Date(until.value).toISOString() : '';
        cursors = [];
        show();
      },
    },
    eventType,
    statusPick,
    h('label', { class: 'sub' }, 'from ', since),
    h('label', { class: 'sub' }, 'before ', until),
    h('button', { type: 'submit', class: 'secondary' }, 'Filter'),
  );
  fill(into, form, list);
  show();
  return () => stopPolling();
}

/** Each status once with how many deliveries are in it ("2 delivered", "dead"); only the receiver's when the list is of one. */
function deliveries(message: MessageSummary, receiverId: string): HTMLElement {
  const shown = receiverId ? message.deliveries.filter((delivery) => delivery.receiverId === receiverId) : message.deliveries;
  const counts = new Map<DeliveryStatus, number>();
  for (const { status } of shown) counts.set(status, (counts.get(status) ?? 0) + 1);
  const deleted = message.payloadDeletedAt ? pill('payload deleted', 'idle') : null;
  if (counts.size === 0) return h('span', { class: 'pills' }, h('span', { class: 'sub' }, 'none'), deleted);
  return h(
    'span',
    { class: 'pills' },
    [...counts].map(([status, count]) => pill(count > 1 ? `${count} ${status}` : status, DELIVERY_TONES[status])),
    deleted,
  );
}
