import { fill, h, table } from '../dom.js';
import { ago } from '../format.js';
import { allReceivers } from '../queries.js';
import { heading, type Page, poll, receiverLink, statusLine } from './page.js';
import { addReceiverForm } from './receiver-form.js';
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
