import { api } from '../api.js';
import type { Receiver } from '../api-types.js';
import { fill, h, toast } from '../dom.js';
import { OPERATIONAL_EVENTS } from '../own-events.js';
import { catalogNames } from './event-types.js';

/**
 * Editing a receiver's event types: a comma list of names and `a.*` patterns, with the catalog's
 * names offered (a pick adds one to the list), and Lockstep's operational events to a receiver
 * without a tenant (the only kind that gets them). Drawn once, outside the polled details, so a
 * refresh never wipes what is being typed.
 */
export async function eventTypesEditor(section: HTMLElement, receiver: Receiver, saved: () => Promise<void>): Promise<void> {
  const catalog = await catalogNames().catch(() => []);
  const input = h('input', { name: 'eventTypes', value: receiver.eventTypes.join(', '), 'aria-label': 'event types', placeholder: 'all event types' });
  const pick = h(
    'select',
    {
      name: 'catalog',
      'aria-label': 'add an event type from the catalog',
      onchange: () => {
        const names = parse(input.value);
        if (pick.value && !names.includes(pick.value)) input.value = [...names, pick.value].join(', ');
        pick.value = '';
      },
    },
    h('option', { value: '' }, catalog.length > 0 ? 'add from the catalog…' : 'the catalog is empty'),
    catalog.map((type) => h('option', { value: type.name }, type.deprecated ? `${type.name} (deprecated)` : type.name)),
    receiver.tenantId === undefined
      ? h(
          'optgroup',
          { label: "Lockstep's operational events" },
          h('option', { value: 'lockstep.*' }, 'lockstep.* (all of them)'),
          Object.keys(OPERATIONAL_EVENTS).map((name) => h('option', { value: name }, name)),
        )
      : null,
  );
  const save = async (): Promise<void> => {
    try {
      await api('PATCH', `/v1/receivers/${receiver.id}`, { eventTypes: parse(input.value) });
      toast('Event types saved.');
      await saved();
    } catch (error) {
      toast(`Could not save the event types: ${(error as Error).message}`, 'error');
    }
  };
  fill(
    section,
    h(
      'form',
      {
        class: 'event-types-edit',
        onsubmit: (event: Event) => {
          event.preventDefault();
          void save();
        },
      },
      input,
      pick,
      h('button', { type: 'submit' }, 'Save event types'),
    ),
  );
}

function parse(value: string): string[] {
  return [
    ...new Set(
      value
        .split(',')
        .map((name) => name.trim())
        .filter(Boolean),
    ),
  ];
}
