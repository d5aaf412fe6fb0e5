import { api } from '../api.js';
import type { Receiver } from '../api-types.js';
import { h, toast } from '../dom.js';

export interface ReceiverFields {
  url: string;
  eventTypes: string[];
  description: string;
}

/**
 * A receiver's URL, event types and description as a form, for adding one and for editing one (a
 * receiver's page edits its event types in an editor of their own: `eventTypes: false`). The API
 * checks every field and names the one at fault; `submit` shows that message.
 */
export function receiverForm(
  initial: ReceiverFields,
  label: string,
  submit: (fields: Partial<ReceiverFields>) => Promise<void>,
  { eventTypes: withEventTypes = true } = {},
): HTMLFormElement {
  const url = h('input', {
    type: 'url',
    name: 'url',
    required: true,
    placeholder: 'https://example.com/webhooks',
    value: initial.url,
    'aria-label': 'endpoint URL',
    size: 48,
  });
  const eventTypes = h('input', {
    type: 'text',
    name: 'eventTypes',
    placeholder: 'all events, or e.g. invoice.*, order.created',
    value: initial.eventTypes.join(', '),
    'aria-label': 'event types',
    size: 36,
  });
  const description = h('input', {
    type: 'text',
    name: 'description',
    placeholder: 'description',
    value: initial.description,
    'aria-label': 'description',
    size: 24,
  });
  const problem = h('p', { class: 'error', role: 'alert' });
  const button = h('button', { type: 'submit' }, label);
  const form = h(
    'form',
    {
      class: 'receiver-form',
      onsubmit: (event: Event) => {
        event.preventDefault();
        problem.textContent = '';
        button.disabled = true;
        const types = eventTypes.value
          .split(',')
          .map((type) => type.trim())
          .filter(Boolean);
        const fields = { url: url.value.trim(), ...(withEventTypes ? { eventTypes: types } : {}), description: description.value.trim() };
        submit(fields)
          .catch((error: unknown) => (problem.textContent = (error as Error).message))
          .finally(() => (button.disabled = false));
      },
    },
    url,
    withEventTypes ? eventTypes : null,
    description,
    button,
    problem,
  );
  return form;
}

/** The form that adds a receiver (of `tenantId`, when given) and opens its page, in the dashboard and the portal alike. */
export function addReceiverForm(label: string, tenantId?: string): HTMLFormElement {
  return receiverForm({ url: '', eventTypes: [], description: '' }, label, async (fields) => {
    const created = await api<Receiver>('POST', '/v1/receivers', { ...fields, ...(tenantId ? { tenantId } : {}) });
    toast(`Added ${created.url}: its signing secret is on its page.`);
    window.location.hash = `#/receivers/${created.id}`;
  });
}
