import { api } from '../api.js';
import type { Receiver } from '../api-types.js';
import { fill, h, toast } from '../dom.js';
import type { Noun } from './receiver-tools.js';

/** The body of a PATCH: an emptied rate or schedule is `null`, which removes it. */
interface FlowPatch {
  maxInFlight: number;
  rateLimitPerSecond: number | null;
  rateLimitBurst: number;
  retrySchedule: number[] | null;
}

/**
 * Editing a receiver's flow control (maxInFlight, the rate limit and its burst, the retry schedule):
 * the API checks every value and names the one at fault, which the toast shows. Drawn once, outside
 * the polled details, so a refresh never wipes what is being typed.
 */
export function flowControlEditor(section: HTMLElement, receiver: Receiver, noun: Noun, saved: () => Promise<void>): void {
  const number = (name: string, value: number | undefined, props: Record<string, string | number>): HTMLInputElement =>
    h('input', { type: 'number', name, value: value ?? '', ...props, size: 8 });
  const inFlight = number('maxInFlight', receiver.maxInFlight, { min: 1, max: 256, step: 1 });
  const rate = number('rateLimitPerSecond', receiver.rateLimitPerSecond, { min: 0.01, max: 10000, step: 'any', placeholder: 'no limit' });
  const burst = number('rateLimitBurst', receiver.rateLimitBurst, { min: 1, step: 1 });
  const schedule = h('input', {
    type: 'text',
    name: 'retrySchedule',
    value: receiver.retrySchedule?.join(', ') ?? '',
    // a tenant's people cannot read the server's settings: the operator can
    placeholder: noun === 'endpoint' ? 'the default schedule' : 'the server default (LOCKSTEP_RETRY_SCHEDULE)',
    size: 36,
  });
  const save = async (): Promise<void> => {
    // an empty or unreadable number goes as null or NaN (sent as null): the API then names the field
    const patch: FlowPatch = {
      maxInFlight: Number(inFlight.value),
      rateLimitPerSecond: rate.value.trim() === '' ? null : Number(rate.value),
      rateLimitBurst: Number(burst.value),
      retrySchedule: schedule.value.trim() === '' ? null : schedule.value.split(',').map((seconds) => Number(seconds.trim())),
    };
    try {
      await api('PATCH', `/v1/receivers/${receiver.id}`, patch);
      toast(`Flow control saved: it applies from the ${noun}’s next deliveries.`);
      await saved();
    } catch (error) {
      toast(`Could not save the flow control: ${(error as Error).message}`, 'error');
    }
  };
  const field = (label: string, input: HTMLInputElement): HTMLElement => h('label', {}, label, ' ', input);
  fill(
    section,
    h(
      'form',
      {
        class: 'flow-edit',
        onsubmit: (event: Event) => {
          event.preventDefault();
          void save();
        },
      },
      field('requests in flight at most', inFlight),
      field('requests per second', rate),
      field('burst', burst),
      field('retries after (s)', schedule),
      h('button', { type: 'submit' }, 'Save flow control'),
    ),
  );
}
