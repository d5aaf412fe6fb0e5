import { api, ApiError } from '../api.js';
import type { Attempt, Delivery, Message } from '../api-types.js';
import { fill, h, table, toast } from '../dom.js';
import { ago, excerpt, time } from '../format.js';
import { receiverUrls } from '../queries.js';
import { recentMessages } from './message-list.js';
import { action, DELIVERY_TONES, heading, type Page, pill, poll, receiverCell, statusLine } from './page.js';

const REFRESH_MS = 2000;
const FINAL = new Set(['delivered', 'dead', 'cancelled']);

export const messagesPage: Page = (view, id) => {
  const status = statusLine();
  const input = h('input', {
    type: 'search',
    name: 'message-id',
    placeholder: 'msg_…',
    value: id ?? '',
    'aria-label': 'message id',
    size: 34,
    required: true,
    pattern: 'msg_[0-9a-z]{26}',
  });
  const search = h(
    'form',
    {
      class: 'search',
      onsubmit: (event: Event) => {
        event.preventDefault();
        window.location.hash = `#/messages/${input.value.trim()}`;
      },
    },
    input,
    h('button', { type: 'submit' }, 'Find'),
  );
  const result = h('section', {});
  fill(view, heading('Messages', status, search), result);
  if (!id) {
    const list = h('div', {});
    fill(result, h('p', { class: 'sub' }, 'The most recent messages; open one, or enter an id, to see its deliveries and every attempt.'), list);
    return recentMessages(list, status);
  }
  // the buttons and the payload are redrawn only when what they show changes: a poll must not
  // swallow a click or fold the payload up again
  const actions = h('span', { class: 'section-tools' });
  const payload = h('div', {});
  const deliveries = h('div', {});
  let drawn: string | undefined;
  let stop = (): void => {};
  const show = async (): Promise<void> => {
    try {
      const message = await api<Message>('GET', `/v1/messages/${id}`);
      const urls = await receiverUrls(message.deliveries.map((delivery) => delivery.receiverId));
      if (drawn === undefined) fill(result, describe(message), actions, payload, deliveries);
      if (drawn !== (message.payloadDeletedAt ?? '')) {
        fill(actions, ...messageActions(message, watch));
        fill(payload, payloadPart(message));
        drawn = message.payloadDeletedAt ?? '';
      }
      fill(
        deliveries,
        ...(message.deliveries.length === 0
          ? [h('p', { class: 'empty' }, 'No receiver matched this event type.')]
          : message.deliveries.map((delivery) => deliveryCard(delivery, urls))),
      );
      if (message.deliveries.every((delivery) => FINAL.has(delivery.status))) stop();
    } catch (error) {
      if (!(error instanceof ApiError) || (error.status !== 404 && error.status !== 400)) throw error;
      fill(result, h('p', { class: 'empty' }, error.status === 404 ? `No message ${id}: messages are kept while Redis keeps them.` : error.message));
      stop();
    }
  };
  // after a button: follow the message again until its deliveries are final
  let left = false;
  const watch = async (): Promise<void> => {
    stop();
    await show();
    if (!left) stop = poll(REFRESH_MS, status, show); // unless the page was left meanwhile
  };
  stop = poll(REFRESH_MS, status, show);
  return () => {
    left = true;
    stop();
  };
};

/** Resend to the receivers it went to; delete its payload (one sent by mistake). Neither once the payload is deleted. */
function messageActions(message: Message, refresh: () => Promise<void>): HTMLElement[] {
  if (message.payloadDeletedAt) return [];
  const resend = action('Resend', async () => {
    await api('POST', `/v1/messages/${message.id}/resend`, {});
    toast('Resent: a new delivery to each of its receivers.');
    await refresh();
  });
  const remove = action('Delete payload', async () => {
    const ask = "Delete this message's payload? Deliveries not made yet are cancelled and it can never be sent again; its attempts stay.";
    if (!window.confirm(ask)) return;
    await api('DELETE', `/v1/messages/${message.id}/payload`);
    toast('Payload deleted.');
    await refresh();
  });
  return [resend, remove];
}

/** The payload, folded; or when it was deleted. */
function payloadPart(message: Message): HTMLElement {
  if (message.payloadDeletedAt)
    return h('p', { class: 'sub payload-deleted' }, `Payload deleted ${time(message.payloadDeletedAt)}: this message can never be sent again.`);
  return h('details', {}, h('summary', {}, 'payload'), h('pre', {}, JSON.stringify(message.payload, null, 2)));
}

function describe(message: Message): HTMLElement {
  return h(
    'dl',
    { class: 'details' },
    h('dt', {}, 'id'),
    h('dd', { class: 'mono' }, message.id),
    h('dt', {}, 'event type'),
    h('dd', {}, message.eventType),
    h('dt', {}, 'accepted'),
    h('dd', {}, `${time(message.createdAt)} (${ago(message.createdAt)})`),
  );
}

function deliveryCard(delivery: Delivery, urls: Map<string, string>): HTMLElement {
  return h(
    'article',
    { class: 'delivery', 'data-receiver': delivery.receiverId },
    h(
      'h2',
      {},
      'to ',
      receiverCell(delivery.receiverId, urls),
      ' ',
      pill(delivery.status, DELIVERY_TONES[delivery.status]),
      delivery.nextAttemptAt ? h('span', { class: 'sub' }, ` next attempt ${ago(delivery.nextAttemptAt)}`) : null,
    ),
    table(['#', 'started', 'answer', 'took', 'emitter', 'fence', 'response'], attemptRows(delivery), 'No attempt yet.'),
  );
}

/** The attempts kept (the first 3 and the last 10), with a row saying how many were left out between. */
function attemptRows(delivery: Delivery): (string | number | HTMLElement)[][] {
  const rows = delivery.attempts.map(attemptRow);
  if (delivery.omittedAttempts > 0)
    rows.splice(3, 0, ['…', h('span', { class: 'sub' }, `${delivery.omittedAttempts} more attempts not kept`), '', '', '', '', '']);
  return rows;
}

function attemptRow(attempt: Attempt): (string | number | HTMLElement)[] {
  const answer =
    attempt.statusCode !== null
      ? pill(`HTTP ${attempt.statusCode}`, attempt.statusCode < 300 ? 'ok' : 'bad')
      : pill(excerpt(attempt.error, 60) || 'no answer', 'bad');
  return [
    attempt.attempt,
    time(attempt.startedAt),
    answer,
    `${Math.round(attempt.durationMs)} ms`,
    h('span', { class: 'mono' }, attempt.emitterId),
    attempt.fence,
    h('code', {}, excerpt(attempt.responseBody, 120)),
  ];
}
