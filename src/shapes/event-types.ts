import { Type, type Static } from '@sinclair/typebox';
import { EVENT_TYPE_PATTERN, Response } from './common.js';

/** The event-type catalog (issue 17): names producers publish, with a JSON Schema for their payloads. */

export const EVENT_TYPE_NAME = { minLength: 1, maxLength: 256, pattern: EVENT_TYPE_PATTERN } as const;

const schemaField = Type.Unsafe<Record<string, unknown>>({
  type: 'object',
  additionalProperties: true,
  description:
    'JSON Schema (draft-07) of the payload: intake refuses (422, naming the JSON path) a message of this type whose payload does not match. Checked when stored (400 when it is not a valid schema)',
  examples: [{ type: 'object', required: ['invoiceId', 'amount'], properties: { invoiceId: { type: 'string' }, amount: { type: 'integer', minimum: 0 } } }],
});
const fields = {
  description: Type.String({ maxLength: 1024 }),
  deprecated: Type.Boolean({ description: 'still accepted; shown as deprecated in the dashboard and /docs' }),
};

/** POST /v1/event-types */
export const NewEventTypeSchema = Type.Object(
  {
    name: Type.String({
      ...EVENT_TYPE_NAME,
      description: "the `eventType` messages carry; `lockstep.…` names are Lockstep's own (422)",
      examples: ['invoice.paid'],
    }),
    description: Type.Optional(fields.description),
    schema: Type.Optional(schemaField),
    deprecated: Type.Optional(fields.deprecated),
  },
  { additionalProperties: false },
);
export type NewEventType = Static<typeof NewEventTypeSchema>;

/** PATCH /v1/event-types/:name: any field but the name; `schema: null` removes the schema. */
export const PatchEventTypeSchema = Type.Object(
  {
    description: Type.Optional(fields.description),
    schema: Type.Optional(Type.Union([schemaField, Type.Null()])),
    deprecated: Type.Optional(fields.deprecated),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type PatchEventType = Static<typeof PatchEventTypeSchema>;

export const EventTypeSchema = Type.Object({
  name: Type.String(),
  description: Type.String(),
  schema: Type.Optional(schemaField),
  deprecated: Type.Boolean(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});
export type EventType = Static<typeof EventTypeSchema>;
export const EventTypeResponse = Response(EventTypeSchema);
export const EventTypeListResponse = Response(Type.Object({ data: Type.Array(EventTypeSchema, { description: 'every type, by name' }) }));
export type EventTypeList = Static<typeof EventTypeListResponse>;

export const EventTypeParams = Type.Object({ name: Type.String({ ...EVENT_TYPE_NAME, examples: ['invoice.paid'] }) });
