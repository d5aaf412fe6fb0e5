import { api } from '../api.js';
import type { Receiver } from '../api-types.js';
import { fill, h, table, toast } from '../dom.js';
import { ago } from '../format.js';
import { allReceivers } from '../queries.js';
import { heading, type Page, poll, receiverLink, statusLine } from './page.js';
import { addReceiverForm, receiverForm } from './receiver-form.js';
import { healthPill } from './receivers.js';

const REFRESH_MS = 3000;

/** The portal's first page: the tenant's endpoints, and a form to add one. */
export const endpointsPage: Page = (view) => {
  const status = statusLine();
  const list = h('section', {});
  fill(
    view,
    heading('Endpoints', status),
    h('p', { class: 'sub' }, 'Where your webhooks are sent. Each endpoint gets the events it lists (none listed: every event), signed with its own secret.'),
    h('h2', {}, 'Add an endpoint'),
    addReceiverForm('Add endpoint'),
    list,
  );
  return poll(REFRESH_MS, status, async () => {
    const receivers = await allReceivers();
    fill(
      list,
      table(
        ['endpoint', 'events', 'health', 'last success', 'dead letters'],
        receivers.map((receiver) => [
          h(
            'div',
            {},
            h('div', { class: 'url' }, receiver.url),
            h('div', { class: 'sub' }, receiverLink(receiver.id), receiver.description ? ` · ${receiver.description}` : ''),
          ),
          receiver.eventTypes.length > 0 ? receiver.eventTypes.join(', ') : 'all',
          healthPill(receiver),
          ago(receiver.health.lastSuccessAt),
          receiver.health.deadLetters,
        ]),
        'No endpoint yet: add one above.',
      ),
    );
  });
};

/** Send a test event, disable or enable, edit: the tools above an endpoint's own page. */
export function endpointTools(receiver: Receiver, refresh: () => void): HTMLElement {
  const act = (label: string, run: () => Promise<void>, kind = 'secondary'): HTMLElement =>
    h(
      'button',
      {
        type: 'button',
        class: kind,
        onclick: () =>
          void run()
            .then(refresh)
            .catch((error: unknown) => toast(`${label} failed: ${(error as Error).message}`, 'error')),
      },
      label,
    );
  const sendTest = act(
    'Send test event',
    async () => {
      const message = await api<{ id: string }>('POST', `/v1/receivers/${receiver.id}/test`);
      toast('Test event sent: follow it on its message page.');
      window.location.hash = `#/messages/${message.id}`;
    },
    '',
  );
  const toggle = receiver.enabled
    ? act('Disable', async () => void (await api('PATCH', `/v1/receivers/${receiver.id}`, { enabled: false })))
    : act('Enable', async () => void (await api('PATCH', `/v1/receivers/${receiver.id}`, { enabled: true })));
  const edit = receiverForm(receiver, 'Save changes', async (fields) => {
    await api('PATCH', `/v1/receivers/${receiver.id}`, fields);
    toast('Saved.');
    refresh();
  });
  return h(
    'section',
    { class: 'endpoint-tools' },
    h('div', { class: 'section-tools' }, sendTest, toggle),
    h('details', {}, h('summary', {}, 'Edit endpoint'), edit),
  );
}
