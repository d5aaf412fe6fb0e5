import { badField } from '../errors.js';
import { OWN_EVENT_PREFIX } from '../shapes/common.js';
import { OWN_EVENT_DATA } from '../shapes/operational-events.js';

/** Every type Lockstep sends itself (shapes/operational-events.ts), for the refusal to name. */
const OWN_EVENT_TYPES = Object.keys(OWN_EVENT_DATA);

/** An event type, or an idempotency key, of Lockstep's own events. */
export const hasOwnPrefix = (name: string): boolean => name.startsWith(OWN_EVENT_PREFIX);

/**
 * A producer's idempotency key of Lockstep's own prefix: the operational events' keys have it, and
 * a producer holding one could keep that event from being stored.
 */
export const reservedIdempotencyKey = (field: string) =>
  badField(field, `starts with "${OWN_EVENT_PREFIX}", which is kept for the events Lockstep sends itself; choose another key`, 422);

/** A producer (or the catalog) naming a type of Lockstep's own prefix. */
export const reservedEventType = (field: string, name: string) =>
  badField(
    field,
    `${name} starts with "${OWN_EVENT_PREFIX}", which is kept for the events Lockstep sends itself (${OWN_EVENT_TYPES.join(', ')}); name your event types otherwise`,
    422,
  );
