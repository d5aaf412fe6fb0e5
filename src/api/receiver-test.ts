import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import type { Messages } from '../domain/messages.js';
import { AcceptedMessageResponse } from '../shapes/messages.js';
import { examples } from './examples.js';
import { errorExamples, errorResponses, receiverIdParams, withExample } from './schemas.js';

/** A receiver's test event: the route is its schema and one call to the messages module. */
export const receiverTestRoutes: FastifyPluginCallbackTypebox<{ messages: Messages }> = (app, { messages }, done) => {
  app.post(
    '/receivers/:id/test',
    {
      schema: {
        tags: ['receivers'],
        operationId: 'sendTestEvent',
        summary: 'Send this receiver (only) a `lockstep.test` event, whatever its event types; follow it with GET /v1/messages/{id}',
        params: receiverIdParams,
        response: {
          202: withExample(AcceptedMessageResponse, { ...examples.accepted, eventType: 'lockstep.test' }),
          ...errorResponses(errorExamples.badReceiverId, errorExamples.receiverNotFound),
        },
      },
    },
    async (request, reply) => reply.status(202).send(await messages.sendTest(request.params.id, request.log)),
  );
  done();
};
