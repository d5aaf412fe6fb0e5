import { Type, type Static } from '@sinclair/typebox';
import { EVENT_FILTER_PATTERN, ID_PATTERN, LIMIT_PATTERN, PageSchema, Response, StringEnum, TENANT_ID_PATTERN } from './common.js';
import { AcceptedMessageSchema, DELIVERY_STATUSES, MessageSchema } from './messages.js';

/** GET /v1/messages: newest first; every filter optional. */
export const MessageListQuerySchema = Type.Object(
  {
    tenantId: Type.Optional(Type.String({ pattern: TENANT_ID_PATTERN, description: "only this tenant's messages (a tenant token sees only its own anyway)" })),
    eventType: Type.Optional(
      Type.String({ maxLength: 256, pattern: EVENT_FILTER_PATTERN, description: 'only messages of this event type (`a.*` matches `a.b` and `a.b.c`)' }),
    ),
    receiverId: Type.Optional(Type.String({ pattern: ID_PATTERN.rcv, description: 'only messages sent to this receiver' })),
    status: Type.Optional(
      StringEnum(DELIVERY_STATUSES, {
        description: "only messages with a delivery in this status (with `receiverId`: that receiver's delivery), e.g. `retrying` or `dead`",
      }),
    ),
    since: Type.Optional(Type.String({ format: 'date-time', description: 'only messages accepted at or after this time' })),
    until: Type.Optional(Type.String({ format: 'date-time', description: 'only messages accepted before this time (with `since`: a window)' })),
    limit: Type.Optional(Type.String({ pattern: LIMIT_PATTERN[100], description: '1 to 100 (default 50)' })),
    cursor: Type.Optional(Type.String({ pattern: ID_PATTERN.msg, description: '`next` of the previous page' })),
  },
  { additionalProperties: false },
);
export type MessageListQuery = Static<typeof MessageListQuerySchema>;

/** One delivery of a listed message: where it stands now (GET /v1/messages/:id has its attempts). */
export const DeliverySummarySchema = Type.Object({ receiverId: Type.String(), status: StringEnum(DELIVERY_STATUSES) });

/** A message as a list shows it: what its 202 said, with its tenant and where each delivery stands. */
export const MessageSummarySchema = Type.Object({
  ...AcceptedMessageSchema.properties,
  tenantId: Type.Optional(Type.String()),
  payloadDeletedAt: MessageSchema.properties.payloadDeletedAt,
  deliveries: Type.Array(DeliverySummarySchema, { description: "each delivery's status now, in the order of `receiverIds`" }),
});
export type MessageSummary = Static<typeof MessageSummarySchema>;
export const MessagePageResponse = Response(PageSchema(MessageSummarySchema));
