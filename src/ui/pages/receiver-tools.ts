import { api } from '../api.js';
import type { Receiver } from '../api-types.js';
import { h, toast } from '../dom.js';
import { action } from './page.js';
import { receiverForm } from './receiver-form.js';

/** What a receiver's page calls a receiver: the portal says "endpoint" to a tenant's people. */
export type Noun = 'receiver' | 'endpoint';

/** Enabling clears the disabled reason and the backoff and resumes the receiver's queue at once. */
function enableButton(receiver: Receiver, refresh: () => Promise<void>): HTMLElement {
  return action('Enable', async () => {
    await api('PATCH', `/v1/receivers/${receiver.id}`, { enabled: true });
    toast(`Enabled ${receiver.url}: its queue resumes now.`);
    await refresh();
  });
}

/**
 * Send a test event, disable or enable, rotate the signing key, delete: the buttons at the top of
 * a receiver's page, in the dashboard and the portal alike. `rotated` shows the new key at once.
 */
export function receiverActions(receiver: Receiver, noun: Noun, refresh: () => Promise<void>, rotated: (secret: string) => void): HTMLElement[] {
  const path = `/v1/receivers/${receiver.id}`;
  const sendTest = action(
    'Send test event',
    async () => {
      const message = await api<{ id: string }>('POST', `${path}/test`);
      toast('Test event sent: follow it on its message page.');
      window.location.hash = `#/messages/${message.id}`;
    },
    '',
  );
  const disable = action('Disable', async () => {
    await api('PATCH', path, { enabled: false });
    toast(`Disabled ${receiver.url}: nothing is sent to it until it is enabled; its deliveries wait.`);
    await refresh();
  });
  const rotate = action('Rotate secret', async () => {
    const ask = `Rotate the signing ${receiver.signatureScheme === 'ed25519' ? 'key' : 'secret'} of ${receiver.url}? The current one keeps signing beside the new one for 24 hours, so the ${noun} can switch over.`;
    if (!window.confirm(ask)) return;
    const answer = await api<{ secret: string }>('POST', `${path}/secret/rotate`);
    rotated(answer.secret);
    toast('Rotated: the new key is shown below; both sign for the next 24 hours.');
    await refresh();
  });
  const remove = action('Delete', async () => {
    if (!window.confirm(`Delete ${receiver.url}? Its pending deliveries are cancelled and nothing more is sent to it.`)) return;
    await api('DELETE', path);
    toast(`Deleted ${receiver.url}.`);
    window.location.hash = '#/receivers';
  });
  return [sendTest, receiver.enabled ? disable : enableButton(receiver, refresh), rotate, remove];
}

/** URL and description (the page's own editor has the event types), edited in a fold (built once: a refresh must not wipe what is being typed). */
export function editFold(receiver: Receiver, noun: Noun, refresh: () => Promise<void>): HTMLElement {
  const form = receiverForm(
    receiver,
    'Save changes',
    async (fields) => {
      await api('PATCH', `/v1/receivers/${receiver.id}`, fields);
      toast('Saved.');
      await refresh();
    },
    { eventTypes: false },
  );
  return h('details', { class: 'edit-fold' }, h('summary', {}, `Edit ${noun}`), form);
}
