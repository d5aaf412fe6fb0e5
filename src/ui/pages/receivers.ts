import { api } from '../api.js';
import type { Receiver } from '../api-types.js';
import { fill, h, table } from '../dom.js';
import { ago } from '../format.js';
import { allReceivers } from '../queries.js';
import { deadLetterList } from './dead-letters.js';
import { flowControlEditor } from './flow-edit.js';
import { eventTypesEditor } from './receiver-edit.js';
import { action, heading, type Page, pill, poll, receiverLink, routeOf, statusLine } from './page.js';
import { addReceiverForm } from './receiver-form.js';
import { editFold, type Noun, receiverActions } from './receiver-tools.js';

const REFRESH_MS = 3000;

export function healthPill(receiver: Receiver): HTMLElement {
  if (!receiver.enabled) return pill(`disabled: ${receiver.disabledReason ?? 'by operator'}`, 'bad');
  if (receiver.health.breaker.state === 'open')
    return pill(`breaker open: one probe per step (${receiver.health.consecutiveFailures} failures in a row)`, 'bad');
  if (receiver.health.consecutiveFailures > 0) return pill(`failing (${receiver.health.consecutiveFailures} in a row)`, 'warn');
  if (receiver.health.lastSuccessAt) return pill('healthy', 'ok');
  return pill('no delivery yet', 'idle');
}

export const receiversPage: Page = (view) => {
  const status = statusLine();
  const list = h('section', {});
  // `#/receivers?tenant=<id>`: one tenant's receivers (the tenants page links here)
  const tenant = routeOf(window.location.hash).query.get('tenant') ?? undefined;
  fill(
    view,
    heading(tenant ? `Receivers of ${tenant}` : 'Receivers', status),
    h('h2', {}, tenant ? `Add a receiver to ${tenant}` : 'Add a receiver'),
    addReceiverForm('Add receiver', tenant),
    list,
  );
  return poll(REFRESH_MS, status, async () => {
    const receivers = await allReceivers(tenant);
    fill(
      list,
      table(
        ['receiver', 'tenant', 'health', 'last success', 'backlog', 'dead letters', 'next retry'],
        receivers.map((receiver) => [
          h(
            'div',
            {},
            h('div', { class: 'url' }, receiver.url),
            h('div', { class: 'sub' }, receiverLink(receiver.id), receiver.description ? ` · ${receiver.description}` : ''),
          ),
          receiver.tenantId ?? '—',
          healthPill(receiver),
          ago(receiver.health.lastSuccessAt),
          receiver.health.queueDepth,
          receiver.health.deadLetters > 0 ? h('a', { href: `#/receivers/${receiver.id}` }, String(receiver.health.deadLetters)) : '0',
          ago(receiver.health.nextRetryAt),
        ]),
        'No receiver yet: add one above, or with POST /v1/receivers (see API docs).',
      ),
    );
  });
};

/**
 * A receiver's own page: its buttons (test event, disable or enable, rotate, delete), its settings
 * and health, its editors, a link to its messages and its dead letters. The portal shows the same page, saying "endpoint".
 */
export function receiverPageFor(noun: Noun): Page {
  return (view, id) => {
    const status = statusLine();
    const actions = h('span', { class: 'section-tools' });
    const edit = h('section', {});
    const details = h('section', { class: 'details' });
    const dead = h('section', {});
    const editor = h('section', {});
    const flow = h('section', {});
    fill(
      view,
      heading(noun === 'endpoint' ? 'Endpoint' : 'Receiver', status, actions),
      edit,
      details,
      h('h2', {}, 'Event types'),
      editor,
      h('h2', {}, 'Flow control'),
      flow,
      h('h2', {}, 'Messages'),
      h(
        'p',
        {},
        h('a', { href: `#/messages?receiverId=${encodeURIComponent(id ?? '')}` }, `Messages sent to this ${noun}`),
        ', newest first, with where each delivery stands.',
      ),
      h('h2', {}, 'Dead letters'),
      dead,
    );
    const stopDead = deadLetterList(dead, id ?? '');
    // The secret is fetched only when asked for and kept across refreshes until hidden again.
    const secret: SecretState = { shown: undefined };
    const load = (): Promise<Receiver> => api<Receiver>('GET', `/v1/receivers/${id ?? ''}`);
    let drawn = ''; // the buttons are redrawn only when what they say changes: a poll must not swallow a click
    const refresh = async (): Promise<void> => {
      const receiver = await load();
      const looks = JSON.stringify([receiver.enabled, receiver.url, receiver.signatureScheme]);
      if (looks !== drawn) fill(actions, ...receiverActions(receiver, noun, refresh, (key) => (secret.shown = key)));
      drawn = looks;
      fill(details, describe(receiver, refresh, secret));
    };
    const stopDetails = poll(REFRESH_MS, status, refresh);
    void load().then(
      (receiver) => {
        fill(edit, editFold(receiver, noun, refresh));
        flowControlEditor(flow, receiver, noun, refresh);
        return eventTypesEditor(editor, receiver, refresh);
      },
      () => undefined,
    );
    return () => {
      stopDead();
      stopDetails();
    };
  };
}

export const receiverPage = receiverPageFor('receiver');

interface SecretState {
  shown: string | undefined;
}

/** The signing secret is never in the receiver's own answer: "Reveal" asks GET …/secret for it. */
function secretRow(receiver: Receiver, state: SecretState, refresh: () => Promise<void>): (Node | string)[] {
  const toggle = (label: string, change: () => Promise<void>): HTMLElement =>
    action(label, async () => {
      await change();
      await refresh();
    });
  if (state.shown === undefined) {
    return [
      'hidden ',
      toggle(receiver.signatureScheme === 'ed25519' ? 'Reveal public key' : 'Reveal secret', async () => {
        state.shown = (await api<{ secret: string }>('GET', `/v1/receivers/${receiver.id}/secret`)).secret;
      }),
    ];
  }
  return [
    h('span', { class: 'mono secret' }, state.shown),
    ' ',
    toggle('Hide', () => {
      state.shown = undefined;
      return Promise.resolve();
    }),
  ];
}

function describe(receiver: Receiver, refresh: () => Promise<void>, secret: SecretState): HTMLElement {
  const row = (label: string, ...value: (Node | string)[]): HTMLElement[] => [h('dt', {}, label), h('dd', {}, ...value)];
  const { health } = receiver;
  return h(
    'dl',
    {},
    row('url', h('span', { class: 'url' }, receiver.url)),
    row('id', h('span', { class: 'mono' }, receiver.id)),
    receiver.tenantId ? row('tenant', receiver.tenantId) : [],
    row('health', healthPill(receiver)),
    row('event types', receiver.eventTypes.length > 0 ? receiver.eventTypes.join(', ') : 'all'),
    row('timeout', `${receiver.timeoutMs} ms`),
    row(
      'ordering',
      receiver.ordering === 'strict' ? 'strict: one at a time, completions in acceptance order' : 'unordered: a failed delivery waits for its own retry',
    ),
    row('flow control', flowControl(receiver)),
    row('signing', signing(receiver)),
    row(receiver.signatureScheme === 'ed25519' ? 'public key' : 'signing secret', ...secretRow(receiver, secret, refresh)),
    Object.keys(receiver.headers).length > 0
      ? row(
          'headers',
          h(
            'span',
            { class: 'mono headers' },
            Object.entries(receiver.headers)
              .map(([name, value]) => `${name}: ${value}`)
              .join('\n'),
          ),
        )
      : [],
    row('last success', ago(health.lastSuccessAt)),
    row('last failure', ago(health.lastFailureAt)),
    row('consecutive failures', String(health.consecutiveFailures)),
    row(
      'circuit breaker',
      health.breaker.state === 'open' ? `open (since ${ago(health.breaker.since)}); next probe ${ago(health.breaker.nextProbeAt)}` : 'closed',
    ),
    row('backlog', `${health.queueDepth} ${health.queueDepth === 1 ? 'delivery' : 'deliveries'}`),
    row('next retry', ago(health.nextRetryAt)),
    receiver.description ? row('description', receiver.description) : [],
  );
}

/** The scheme, and a rotation's overlap while the previous key still signs. */
function signing(receiver: Receiver): string {
  const scheme = receiver.signatureScheme === 'ed25519' ? 'ed25519 (v1a signatures, verified with the whpk_ public key)' : 'hmac-sha256 (v1 signatures)';
  const until = receiver.previousSecretExpiresAt;
  return until ? `${scheme} · rotating: the previous key also signs until ${new Date(until).toLocaleString()}` : scheme;
}

/** maxInFlight, the rate limit and the retry schedule, as one line. */
function flowControl(receiver: Receiver): string {
  const parts = [`${receiver.maxInFlight} in flight at most`];
  parts.push(receiver.rateLimitPerSecond !== undefined ? `${receiver.rateLimitPerSecond}/s, burst ${receiver.rateLimitBurst}` : 'no rate limit');
  if (receiver.retrySchedule) parts.push(`retries after ${receiver.retrySchedule.map((s) => `${s} s`).join(', ')}`);
  return parts.join(' · ');
}
