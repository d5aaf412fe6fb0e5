import {
  DELIVERY_DEAD,
  RECEIVER_CREATED,
  RECEIVER_DELETED,
  RECEIVER_DISABLED,
  RECEIVER_FAILING,
  RECEIVER_RECOVERED,
  RECEIVER_UPDATED,
  TEST_EVENT_MESSAGE,
  TEST_EVENT_TYPE,
  type DeliveryDead,
  type ReceiverCreated,
  type ReceiverDeleted,
  type ReceiverDisabled,
  type ReceiverEventBase,
  type ReceiverUpdated,
  type TestEvent,
} from '../shapes/operational-events.js';
import { examples } from './examples.js';

/**
 * One realistic `data` per event Lockstep sends itself, shown with its webhook in the OpenAPI
 * document; test/api/openapi.test.ts checks each against its schema.
 */

const { receiver, attempt, accepted } = examples;
const about = { receiverId: receiver.id, url: receiver.url };
// an event's attempt says what it was, not who sent it or what came back
const { emitterId: _emitter, fence: _fence, responseBody: _body, responseHeaders: _headers, ...shownAttempt } = { messageId: accepted.id, ...attempt };
const failingHealth = {
  ...receiver.health,
  lastSuccessAt: '2026-11-22T14:30:02.114Z',
  lastFailureAt: attempt.startedAt,
  consecutiveFailures: 5,
  nextRetryAt: '2026-11-22T14:36:01.519Z',
  breaker: { state: 'open' as const, since: attempt.startedAt, nextProbeAt: '2026-11-22T14:36:01.519Z' },
};
const now = { ...about, description: receiver.description, eventTypes: [...receiver.eventTypes], enabled: true, by: 'tok_01m81tw3k2v8h0d6c4x9s7b5ne' };

const failing: ReceiverEventBase = { ...about, health: failingHealth, lastAttempt: shownAttempt };
const dead: DeliveryDead = { ...failing, messageId: accepted.id, eventType: accepted.eventType, attempts: 8, lastAttempt: { ...shownAttempt, attempt: 8 } };
const disabled: ReceiverDisabled = { ...failing, reason: 'gone', lastAttempt: { ...shownAttempt, statusCode: 410, durationMs: 12 } };
const recovered: ReceiverEventBase = {
  ...about,
  health: receiver.health,
  lastAttempt: { ...shownAttempt, attempt: 2, statusCode: 200, startedAt: receiver.health.lastSuccessAt },
};
const created: ReceiverCreated = now;
const updated: ReceiverUpdated = { ...now, enabled: false, changed: ['enabled'] };
const deleted: ReceiverDeleted = { ...about, by: now.by };
const test: TestEvent = { message: TEST_EVENT_MESSAGE, receiverId: receiver.id, sentAt: attempt.startedAt };

export const OWN_EVENT_EXAMPLES: Readonly<Record<string, object>> = {
  [RECEIVER_FAILING]: failing,
  [DELIVERY_DEAD]: dead,
  [RECEIVER_DISABLED]: disabled,
  [RECEIVER_RECOVERED]: recovered,
  [RECEIVER_CREATED]: created,
  [RECEIVER_UPDATED]: updated,
  [RECEIVER_DELETED]: deleted,
  [TEST_EVENT_TYPE]: test,
};
