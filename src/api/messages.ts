import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { payloadDeleted, unknownReceiver, type Messages } from '../domain/messages.js';
import { tooDeep } from '../domain/payload-depth.js';
import { EVENT_TYPE_PATTERN, ID_PATTERN } from '../shapes/common.js';
import {
  AcceptedMessageResponse,
  BatchAcceptedResponse,
  BatchBodySchema,
  IdempotencyHeadersSchema,
  MessageResponse,
  NewMessageSchema,
  ResendBodySchema,
} from '../shapes/messages.js';
import { errorBodyOf } from './errors.js';
import { errorExample, examples, message as messageExample } from './examples.js';
import { errorExamples, errorResponses, messageIdParams, patternMismatch, withExample } from './schemas.js';
import { traceContextOf, traceRequests } from './tracing.js';
import type { Tracing } from '../tracing/index.js';

export interface MessageRoutesOptions {
  messages: Messages;
  bodyLimitBytes: number;
  tracing: Tracing | undefined;
}

const tags = ['messages'];
const acceptedResponse = withExample(AcceptedMessageResponse, examples.accepted);

/** A batch may be this many times larger than a single request body. */
const BATCH_BODY_FACTOR = 20;

/** What each route answers when the request is wrong, shown with the body it gets. */
const errorsOf = {
  accept: errorResponses(patternMismatch('eventType', EVENT_TYPE_PATTERN), errorExamples.bodyTooLarge, errorExamples.unknownReceiverId),
  acceptBatch: errorResponses(
    patternMismatch('messages[0].eventType', EVENT_TYPE_PATTERN),
    errorExample(409),
    errorExamples.bodyTooLarge,
    errorBodyOf(unknownReceiver('messages[1].receiverIds[0]', examples.receiverId)),
    errorBodyOf(tooDeep('messages[1].payload')),
  ),
  read: errorResponses(errorExamples.badMessageId, errorExamples.messageNotFound),
  resend: errorResponses(
    patternMismatch('receiverIds[0]', ID_PATTERN.rcv),
    errorExamples.messageNotFound,
    errorExamples.bodyTooLarge,
    errorExamples.unknownReceiverId,
    errorBodyOf(payloadDeleted(examples.messageId)),
  ),
};

/** Intake, reading, resending and deleting a payload: each route is its schema and one call to the messages module. */
export const messageRoutes: FastifyPluginCallbackTypebox<MessageRoutesOptions> = (app, { messages, bodyLimitBytes, tracing }, done) => {
  traceRequests(app, tracing);
  app.post(
    '/messages',
    {
      schema: {
        tags,
        operationId: 'publishMessage',
        summary: 'Accept an event; 202 once it and its deliveries are stored',
        description:
          '`receiverIds` absent = every enabled receiver whose `eventTypes` match. `Idempotency-Key` header or `idempotencyKey` field: a repeat within 24 h returns the first response and creates nothing.',
        headers: IdempotencyHeadersSchema,
        body: withExample(NewMessageSchema, examples.newMessage),
        response: { 202: acceptedResponse, ...errorsOf.accept },
      },
    },
    async (request, reply) => {
      const { message, duplicate } = await messages.accept(request.body, headerKey(request), request.log, traceContextOf(request));
      if (duplicate) void reply.header('idempotent-replayed', 'true');
      return reply.status(202).send(message);
    },
  );

  app.post(
    '/messages/batch',
    {
      bodyLimit: bodyLimitBytes * BATCH_BODY_FACTOR,
      schema: {
        tags,
        operationId: 'publishMessageBatch',
        summary: 'Accept up to 1,000 messages in one request (one round trip to Redis)',
        description:
          `Each message is stored atomically, exactly as by POST /v1/messages; the answer lists them in order. An explicit receiver id that does not exist refuses the whole batch with 422 before anything is stored. Body limit: ${BATCH_BODY_FACTOR}× the single-message limit. ` +
          '`Idempotency-Key` header: covers the whole batch (a message with its own `idempotencyKey` keeps that one); a repeat within 24 h stores nothing it stored before and answers with the same ids, marked `duplicate`. ' +
          'A 409 (a named receiver deleted while the batch was being stored) lists exactly which messages were stored; their deliveries go ahead.',
        headers: IdempotencyHeadersSchema,
        body: withExample(BatchBodySchema, { messages: [examples.newMessage, { eventType: 'invoice.voided', payload: { invoiceId: 'inv_43' } }] }),
        response: {
          202: withExample(BatchAcceptedResponse, {
            data: [
              { ...examples.accepted, duplicate: true },
              { ...examples.accepted, id: 'msg_01m81ty5qz3thq4wqvkn0xgt6c', eventType: 'invoice.voided' },
            ],
          }),
          ...errorsOf.acceptBatch,
        },
      },
    },
    async (request, reply) => {
      const results = await messages.acceptBatch(request.body.messages, headerKey(request), request.log, traceContextOf(request));
      if (results.length > 0 && results.every((result) => result.duplicate)) void reply.header('idempotent-replayed', 'true');
      return reply.status(202).send({ data: results.map(({ message, duplicate }) => (duplicate ? { ...message, duplicate } : message)) });
    },
  );

  app.get(
    '/messages/:id',
    {
      schema: {
        tags,
        operationId: 'getMessage',
        summary: 'A message with every delivery and every attempt',
        params: messageIdParams,
        response: { 200: withExample(MessageResponse, messageExample), ...errorsOf.read },
      },
    },
    async (request) => messages.get(request.params.id),
  );

  app.post(
    '/messages/:id/resend',
    {
      schema: {
        tags,
        operationId: 'resendMessage',
        summary: 'Send a message again: a new delivery to each receiver (default: the receivers it was sent to)',
        params: messageIdParams,
        body: withExample(ResendBodySchema, { receiverIds: [examples.receiverId] }),
        response: { 202: acceptedResponse, ...errorsOf.resend },
      },
    },
    async (request, reply) => reply.status(202).send(await messages.resend(request.params.id, request.body?.receiverIds, request.log)),
  );

  app.delete(
    '/messages/:id/payload',
    {
      schema: {
        tags,
        operationId: 'deleteMessagePayload',
        summary: "Delete a message's payload (one sent by mistake); its unfinished deliveries are cancelled and it is never sent again",
        description:
          'Its type, time, deliveries and attempts stay (`GET` shows `payload: null` and `payloadDeletedAt`); a resend answers 409 and its dead letters leave the list. A request an emitter has already started (or claimed just before) may still go out once; its attempt is kept. Deleting again answers 204.',
        params: messageIdParams,
        response: { 204: Type.Null(), ...errorsOf.read },
      },
    },
    async (request, reply) => {
      await messages.deletePayload(request.params.id, request.log);
      return reply.status(204).send(null);
    },
  );
  done();
};

function headerKey(request: FastifyRequest): string | undefined {
  const header = request.headers['idempotency-key'];
  return typeof header === 'string' ? header : undefined;
}
