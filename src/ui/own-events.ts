import type { webhooks } from '../client/schema.js';

/**
 * Lockstep's operational events (README "Operational events"), which only receivers without a
 * tenant get, and only by naming them. Keyed by the API's own `webhooks`, so a new event fails to
 * compile here until the dashboard says what it means.
 */
export const OPERATIONAL_EVENTS: Record<Exclude<keyof webhooks, 'lockstep.test'>, string> = {
  'lockstep.receiver.failing': "a receiver's consecutive failures reached the breaker threshold: its breaker opened",
  'lockstep.delivery.dead': 'a delivery ended dead after its last retry',
  'lockstep.receiver.disabled': 'Lockstep disabled a receiver: it answered 410, or its deliveries kept ending dead',
  'lockstep.receiver.recovered': 'a success after a receiver was failing: its breaker closed',
  'lockstep.receiver.created': 'a receiver was registered',
  'lockstep.receiver.updated': 'a receiver was changed, or its signing key rotated: the fields set, by name, and the receiver as it is now',
  'lockstep.receiver.deleted': 'a receiver was deleted, alone or with its tenant',
};
