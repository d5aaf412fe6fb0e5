import { badField } from '../errors.js';
import { OWN_EVENT_PREFIX } from '../shapes/common.js';

/** The event a receiver gets from POST /v1/receivers/:id/test. */
export const TEST_EVENT_TYPE = 'lockstep.test';
/** A delivery ended `dead` after its last retry (operational-events.ts). */
export const DELIVERY_DEAD = 'lockstep.delivery.dead';
/** Lockstep disabled a receiver: it answered 410, or its deliveries kept ending dead. */
export const RECEIVER_DISABLED = 'lockstep.receiver.disabled';
/** A receiver's consecutive failures reached LOCKSTEP_BREAKER_FAILURES: its breaker opened. */
export const RECEIVER_FAILING = 'lockstep.receiver.failing';
/** A success after that: its breaker closed. */
export const RECEIVER_RECOVERED = 'lockstep.receiver.recovered';

/** Every type Lockstep sends itself; always "known" to the catalog, whatever LOCKSTEP_REQUIRE_KNOWN_EVENT_TYPES says. */
export const OWN_EVENT_TYPES = [TEST_EVENT_TYPE, DELIVERY_DEAD, RECEIVER_DISABLED, RECEIVER_FAILING, RECEIVER_RECOVERED] as const;

export const isOwnEventType = (eventType: string): boolean => eventType.startsWith(OWN_EVENT_PREFIX);

/** A producer (or the catalog) naming a type of Lockstep's own prefix. */
export const reservedEventType = (field: string, name: string) =>
  badField(
    field,
    `${name} starts with "${OWN_EVENT_PREFIX}", which is kept for the events Lockstep sends itself (${OWN_EVENT_TYPES.join(', ')}); name your event types otherwise`,
    422,
  );
