import { Type, type Static } from '@sinclair/typebox';
import { EVENT_TYPE_PATTERN, ID_PATTERN, IDEMPOTENCY_KEY_PATTERN, Nullable, TENANT_ID_PATTERN, OrNull, Response, StringEnum, StringMap } from './common.js';

export const IdempotencyKeySchema = Type.String({
  minLength: 1,
  maxLength: 256,
  pattern: IDEMPOTENCY_KEY_PATTERN,
  description: 'a repeat within 24 h returns the first answer and stores nothing; keys starting with `lockstep.` are kept for Lockstep (422)',
});
const ReceiverIds = Type.Array(Type.String({ pattern: ID_PATTERN.rcv }), { minItems: 1, maxItems: 1000, uniqueItems: true });

/** POST /v1/messages, and each message of a batch. */
export const NewMessageSchema = Type.Object(
  {
    eventType: Type.String({
      minLength: 1,
      maxLength: 256,
      pattern: EVENT_TYPE_PATTERN,
      description: 'names starting with `lockstep.` are kept for the events Lockstep sends itself (422)',
      examples: ['invoice.paid'],
    }),
    payload: Type.Unknown({
      description: 'any JSON value, sent to receivers as `data`; nested at most 64 levels deep (422 beyond)',
      examples: [{ invoiceId: 'inv_1', amount: 4200 }],
    }),
    /** Explicit receivers; absent = every enabled receiver whose event types match. */
    receiverIds: Type.Optional(ReceiverIds),
    idempotencyKey: Type.Optional(IdempotencyKeySchema),
    tenantId: Type.Optional(
      Type.String({
        pattern: TENANT_ID_PATTERN,
        description:
          "the tenant it is for: it goes only to that tenant's receivers (and `receiverIds` must be theirs). Absent: only receivers without a tenant",
        examples: ['acme'],
      }),
    ),
  },
  { additionalProperties: false },
);
export type NewMessage = Static<typeof NewMessageSchema>;

export const BatchBodySchema = Type.Object({ messages: Type.Array(NewMessageSchema, { minItems: 1, maxItems: 1000 }) }, { additionalProperties: false });
export type BatchBody = Static<typeof BatchBodySchema>;

export const IdempotencyHeadersSchema = Type.Object({
  'idempotency-key': Type.Optional(IdempotencyKeySchema),
  // not validated: an invalid trace context is ignored (W3C Trace Context), never refused
  traceparent: Type.Optional(
    Type.String({
      description:
        'W3C trace context of the producer: the intake span and every delivery attempt continue its trace, and receivers get a `traceparent` of the same trace',
      examples: ['00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'],
    }),
  ),
});

export const ResendBodySchema = OrNull(Type.Object({ receiverIds: Type.Optional(ReceiverIds) }, { additionalProperties: false }));
export type ResendBody = Static<typeof ResendBodySchema>;

/** What a 202 of an accept or a resend says. */
export const AcceptedMessageSchema = Type.Object({
  id: Type.String(),
  eventType: Type.String(),
  createdAt: Type.String(),
  receiverIds: Type.Array(Type.String()),
});
export type AcceptedMessage = Static<typeof AcceptedMessageSchema>;
export const AcceptedMessageResponse = Response(AcceptedMessageSchema);

/** A batch's answer, in order; `duplicate` marks a message stored by an earlier request with the same key. */
export const BatchAcceptedResponse = Response(
  Type.Object({
    data: Type.Array(Type.Object({ ...AcceptedMessageSchema.properties, duplicate: Type.Optional(Type.Boolean()) })),
  }),
);

export const AttemptSchema = Type.Object({
  attempt: Type.Integer(),
  startedAt: Type.String(),
  durationMs: Type.Number(),
  statusCode: Nullable('integer'),
  error: Nullable('string'),
  emitterId: Type.String(),
  fence: Type.Integer(),
  responseBody: Type.Optional(Type.String()),
  responseHeaders: Type.Optional(StringMap()),
});
export type Attempt = Static<typeof AttemptSchema>;

export const DELIVERY_STATUSES = ['pending', 'delivering', 'delivered', 'retrying', 'dead', 'cancelled'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export const DeliverySchema = Type.Object({
  receiverId: Type.String(),
  status: StringEnum(DELIVERY_STATUSES),
  nextAttemptAt: Nullable('string'),
  attempts: Type.Array(AttemptSchema, { description: 'the first 3 and the last 10 attempts' }),
  omittedAttempts: Type.Integer({ description: 'attempts made between those listed and left out (0 up to 13 attempts)' }),
});
export type Delivery = Static<typeof DeliverySchema>;

export const MessageSchema = Type.Object({
  id: Type.String(),
  tenantId: Type.Optional(Type.String()),
  eventType: Type.String(),
  createdAt: Type.String(),
  payload: Type.Unknown({ description: 'null once deleted (`payloadDeletedAt`)' }),
  payloadDeletedAt: Type.Optional(
    Type.String({ format: 'date-time', description: 'when DELETE /v1/messages/:id/payload removed the payload: it can never be sent again' }),
  ),
  deliveries: Type.Array(DeliverySchema),
});
export type Message = Static<typeof MessageSchema>;
export const MessageResponse = Response(MessageSchema);
