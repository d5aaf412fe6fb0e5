import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { AttemptSchema } from './messages.js';
import { ReceiverHealthSchema } from './receivers.js';

/** The event a receiver gets from POST /v1/receivers/:id/test. */
export const TEST_EVENT_TYPE = 'lockstep.test';
export const TEST_EVENT_MESSAGE = 'A test event from Lockstep: your endpoint is reachable.';
/** A receiver's consecutive failures reached LOCKSTEP_BREAKER_FAILURES: its breaker opened. */
export const RECEIVER_FAILING = 'lockstep.receiver.failing';
/** A delivery ended `dead` after its last retry. */
export const DELIVERY_DEAD = 'lockstep.delivery.dead';
/** Lockstep disabled a receiver: it answered 410, or its deliveries kept ending dead. */
export const RECEIVER_DISABLED = 'lockstep.receiver.disabled';
/** A success after that: its breaker closed. */
export const RECEIVER_RECOVERED = 'lockstep.receiver.recovered';
/** A receiver registered, changed or deleted through the API (or a tenant's cascade). */
export const RECEIVER_CREATED = 'lockstep.receiver.created';
export const RECEIVER_UPDATED = 'lockstep.receiver.updated';
export const RECEIVER_DELETED = 'lockstep.receiver.deleted';

/** The attempt an operational event is about. */
const LastAttempt = Type.Object({
  messageId: Type.String(),
  ...Type.Pick(AttemptSchema, ['attempt', 'startedAt', 'durationMs', 'statusCode', 'error']).properties,
});

/** What every operational event says: whose receiver, how it stands, and the attempt it is about. */
const aboutReceiver = {
  receiverId: Type.String(),
  tenantId: Type.Optional(Type.String({ description: "the receiver's tenant, when it has one" })),
  url: Type.Optional(Type.String({ description: "the receiver's URL (absent if it was deleted meanwhile)" })),
  health: Type.Optional(ReceiverHealthSchema),
  lastAttempt: LastAttempt,
};

export const ReceiverFailingSchema = Type.Object(aboutReceiver, {
  description: "`lockstep.receiver.failing`: the receiver's consecutive failed attempts reached LOCKSTEP_BREAKER_FAILURES; its breaker opened",
});
export const ReceiverRecoveredSchema = Type.Object(aboutReceiver, {
  description: '`lockstep.receiver.recovered`: a success after the receiver was failing; its breaker closed',
});
export const DeliveryDeadSchema = Type.Object(
  { ...aboutReceiver, messageId: Type.String(), eventType: Type.String(), attempts: Type.Integer() },
  { description: '`lockstep.delivery.dead`: a delivery ended `dead` after its last retry' },
);
export const ReceiverDisabledSchema = Type.Object(
  { ...aboutReceiver, reason: Type.String({ description: 'its `disabledReason`: `gone` (a 410) or `failing: …`' }) },
  { description: '`lockstep.receiver.disabled`: Lockstep disabled the receiver' },
);
/** What a lifecycle event says of the receiver: who it is and what it takes (never its secret or headers). */
const receiverNow = {
  receiverId: Type.String(),
  tenantId: Type.Optional(Type.String({ description: "the receiver's tenant, when it has one" })),
  url: Type.String(),
  description: Type.String(),
  eventTypes: Type.Array(Type.String()),
  enabled: Type.Boolean(),
  by: Type.String({ description: 'the API token that made the change: its id (`tok_…`), or `LOCKSTEP_API_TOKEN` for one of those' }),
};
export const ReceiverCreatedSchema = Type.Object(receiverNow, { description: '`lockstep.receiver.created`: a receiver was registered' });
export const ReceiverUpdatedSchema = Type.Object(
  {
    ...receiverNow,
    changed: Type.Array(Type.String(), {
      description: 'the fields the change set, by name only (a secret or a header may be among them); `enabled` is there when it was enabled or disabled',
    }),
  },
  { description: '`lockstep.receiver.updated`: a receiver was changed (PATCH), or its signing key rotated; the fields show it as it is now' },
);
export const ReceiverDeletedSchema = Type.Object(Type.Pick(Type.Object(receiverNow), ['receiverId', 'tenantId', 'url', 'by']).properties, {
  description: '`lockstep.receiver.deleted`: a receiver was deleted (with its tenant, too); nothing is sent to it any more',
});
export const TestEventSchema = Type.Object(
  { message: Type.String(), receiverId: Type.String(), sentAt: Type.String() },
  { description: '`lockstep.test`: sent by POST /v1/receivers/{id}/test to that receiver only' },
);

/** What every operational event's `data` holds. */
export type ReceiverEventBase = Static<typeof ReceiverFailingSchema>;
export type DeliveryDead = Static<typeof DeliveryDeadSchema>;
export type ReceiverDisabled = Static<typeof ReceiverDisabledSchema>;
export type ReceiverCreated = Static<typeof ReceiverCreatedSchema>;
export type ReceiverUpdated = Static<typeof ReceiverUpdatedSchema>;
export type ReceiverDeleted = Static<typeof ReceiverDeletedSchema>;
export type OperationalEventData = ReceiverEventBase | DeliveryDead | ReceiverDisabled | ReceiverUpdated | ReceiverDeleted;
export type TestEvent = Static<typeof TestEventSchema>;

/** The body every receiver gets (README "What a receiver gets"), with this `data`. */
export const WebhookBodySchema = <T extends TSchema>(type: string, data: T) =>
  Type.Object({
    type: Type.Literal(type),
    timestamp: Type.String({ description: 'when the message was accepted (ISO 8601)' }),
    data,
    fence: Type.Integer({ description: 'the fencing token of the lock this attempt was sent under: refuse one below the highest seen' }),
  });

/** The operational events Lockstep publishes (all but the test event). */
export const OPERATIONAL_EVENT_TYPES = [
  RECEIVER_FAILING,
  DELIVERY_DEAD,
  RECEIVER_DISABLED,
  RECEIVER_RECOVERED,
  RECEIVER_CREATED,
  RECEIVER_UPDATED,
  RECEIVER_DELETED,
] as const;

/** Each event type Lockstep sends itself, with the `data` its receivers get. */
export const OWN_EVENT_DATA: Readonly<Record<string, TSchema>> = {
  [RECEIVER_FAILING]: ReceiverFailingSchema,
  [DELIVERY_DEAD]: DeliveryDeadSchema,
  [RECEIVER_DISABLED]: ReceiverDisabledSchema,
  [RECEIVER_RECOVERED]: ReceiverRecoveredSchema,
  [RECEIVER_CREATED]: ReceiverCreatedSchema,
  [RECEIVER_UPDATED]: ReceiverUpdatedSchema,
  [RECEIVER_DELETED]: ReceiverDeletedSchema,
  [TEST_EVENT_TYPE]: TestEventSchema,
};
