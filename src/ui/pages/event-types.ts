import { api } from '../api.js';
import type { EventType, EventTypeList } from '../api-types.js';
import { fill, h, table } from '../dom.js';
import { ago } from '../format.js';
import { OPERATIONAL_EVENTS } from '../own-events.js';
import { heading, type Page, pill, poll, statusLine } from './page.js';

const REFRESH_MS = 10_000;

/** The catalog's names, for the receiver editor's suggestions. */
export async function catalogNames(): Promise<EventType[]> {
  return (await api<EventTypeList>('GET', '/v1/event-types')).data;
}

/** The event-type catalog: each type, whether it is deprecated, and the schema its payloads must match. */
export const eventTypesPage: Page = (view) => {
  const status = statusLine();
  const list = h('section', { class: 'event-types' });
  fill(view, heading('Event types', status), list, operationalEvents());
  return poll(REFRESH_MS, status, async () => {
    const types = await catalogNames();
    fill(
      list,
      table(
        ['event type', 'description', 'payload schema', 'updated'],
        types.map((type) => [
          h('span', {}, h('span', { class: 'mono' }, type.name), type.deprecated ? [' ', pill('deprecated', 'warn')] : null),
          type.description || '—',
          type.schema ? h('details', {}, h('summary', {}, 'schema'), h('pre', { class: 'mono' }, JSON.stringify(type.schema, null, 2))) : 'none: any payload',
          ago(type.updatedAt),
        ]),
        'The catalog is empty: add a type with POST /v1/event-types (see API docs).',
      ),
    );
  });
};

/** What Lockstep sends itself, beside the catalog: a receiver without a tenant gets these by naming them, e.g. `lockstep.*`. */
function operationalEvents(): HTMLElement {
  return h(
    'section',
    { class: 'operational-events' },
    h('h3', {}, "Lockstep's operational events"),
    h('p', {}, 'Sent to receivers without a tenant whose event types name them (e.g. lockstep.*); * and an empty list do not.'),
    table(
      ['event type', 'sent when'],
      Object.entries(OPERATIONAL_EVENTS).map(([name, meaning]) => [h('span', { class: 'mono' }, name), meaning]),
      '',
    ),
  );
}
