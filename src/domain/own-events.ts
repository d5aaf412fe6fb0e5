import { badField } from '../errors.js';
import { OWN_EVENT_PREFIX } from '../shapes/common.js';
import { OWN_EVENT_DATA } from '../shapes/operational-events.js';

/** Every type Lockstep sends itself (shapes/operational-events.ts); always "known" to the catalog, whatever LOCKSTEP_REQUIRE_KNOWN_EVENT_TYPES says. */
const OWN_EVENT_TYPES = Object.keys(OWN_EVENT_DATA);

export const isOwnEventType = (eventType: string): boolean => eventType.startsWith(OWN_EVENT_PREFIX);

/** A producer (or the catalog) naming a type of Lockstep's own prefix. */
export const reservedEventType = (field: string, name: string) =>
  badField(
    field,
    `${name} starts with "${OWN_EVENT_PREFIX}", which is kept for the events Lockstep sends itself (${OWN_EVENT_TYPES.join(', ')}); name your event types otherwise`,
    422,
  );
