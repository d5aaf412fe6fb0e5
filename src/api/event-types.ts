import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { duplicateEventType, type EventTypes } from '../domain/event-types.js';
import { badField, notFound } from '../errors.js';
import { EVENT_TYPE_NAME, EventTypeListResponse, EventTypeParams, EventTypeResponse, NewEventTypeSchema, PatchEventTypeSchema } from '../shapes/event-types.js';
import { errorBodyOf } from './errors.js';
import { eventType, examples } from './examples.js';
import { errorResponses, patternMismatch, withExample } from './schemas.js';

const tags = ['event types'];
const typeResponse = withExample(EventTypeResponse, eventType);
const params = withExample(EventTypeParams, { name: 'invoice.paid' });

const errorsOf = {
  create: errorResponses(
    errorBodyOf(duplicateEventType('invoice.paid')),
    errorBodyOf(badField('schema', 'is not a valid JSON Schema (draft-07): schema is invalid: data/type must be equal to one of the allowed values')),
  ),
  read: errorResponses(patternMismatch('params.name', EVENT_TYPE_NAME.pattern), errorBodyOf(notFound('event type invoice.paid'))),
};

/** The event-type catalog: each route is its schema and one call to the event-types module. */
export const eventTypeRoutes: FastifyPluginCallbackTypebox<{ eventTypes: EventTypes }> = (app, { eventTypes }, done) => {
  app.post(
    '/event-types',
    {
      schema: {
        tags,
        operationId: 'createEventType',
        summary: 'Add an event type to the catalog, with a JSON Schema its payloads must match',
        description:
          'From then on intake checks every message of this type against the schema and answers 422 naming the path to the failing value (`payload.lines[0].qty must be integer`). With LOCKSTEP_REQUIRE_KNOWN_EVENT_TYPES=true, intake refuses types that are not in the catalog.',
        body: withExample(NewEventTypeSchema, examples.newEventType),
        response: { 201: typeResponse, ...errorsOf.create },
      },
    },
    async (request, reply) => reply.status(201).send(await eventTypes.create(request.body, request.log)),
  );

  app.get(
    '/event-types',
    {
      schema: {
        tags,
        operationId: 'listEventTypes',
        summary: 'The whole catalog, by name',
        response: { 200: withExample(EventTypeListResponse, { data: [eventType] }), ...errorResponses() },
      },
    },
    async () => ({ data: await eventTypes.list() }),
  );

  app.get(
    '/event-types/:name',
    { schema: { tags, operationId: 'getEventType', summary: 'One event type with its schema', params, response: { 200: typeResponse, ...errorsOf.read } } },
    async (request) => eventTypes.get(request.params.name),
  );

  app.patch(
    '/event-types/:name',
    {
      schema: {
        tags,
        operationId: 'updateEventType',
        summary: 'Change an event type’s description, schema (`null` removes it) or `deprecated` flag',
        params,
        body: withExample(PatchEventTypeSchema, examples.eventTypePatch),
        response: { 200: typeResponse, ...errorsOf.read },
      },
    },
    async (request) => eventTypes.update(request.params.name, request.body, request.log),
  );

  app.delete(
    '/event-types/:name',
    {
      schema: {
        tags,
        operationId: 'deleteEventType',
        summary: 'Remove an event type from the catalog (its messages are no longer checked)',
        params,
        response: { 204: Type.Null(), ...errorsOf.read },
      },
    },
    async (request, reply) => {
      await eventTypes.delete(request.params.name, request.log);
      return reply.status(204).send(null);
    },
  );
  done();
};
