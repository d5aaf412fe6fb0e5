import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import type { Messages } from '../domain/messages.js';
import { EVENT_FILTER_PATTERN } from '../shapes/common.js';
import { MessageListQuerySchema, MessagePageResponse } from '../shapes/message-list.js';
import { errorResponses, patternMismatch, withExample } from './schemas.js';
import { tenantExamples } from './tenant-examples.js';

const tags = ['messages'];

/** Listing messages: the route is its schema and one call to the messages module. */
export const messageListRoutes: FastifyPluginCallbackTypebox<{ messages: Messages }> = (app, { messages }, done) => {
  app.get(
    '/messages',
    {
      schema: {
        tags,
        operationId: 'listMessages',
        summary:
          "Messages, newest first, with where each delivery stands: all, or one tenant's (a tenant token sees only its own), of an event type, sent to a receiver, with a delivery in a status, since or until a time",
        querystring: MessageListQuerySchema,
        response: {
          200: withExample(MessagePageResponse, { data: [tenantExamples.messageSummary], next: null }),
          ...errorResponses(patternMismatch('querystring.eventType', EVENT_FILTER_PATTERN)),
        },
      },
    },
    async (request) => messages.list(request.query, request.principal),
  );

  done();
};
