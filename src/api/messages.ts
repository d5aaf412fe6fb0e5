import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { ID_PATTERN } from '../ids.js';
import type { Store } from '../store/index.js';
import type { AcceptedMessage } from '../store/types.js';
import { badField, notFound } from './errors.js';
import { acceptedMessageSchema, errorSchema, EVENT_TYPE_PATTERN, messageIdParams, messageSchema } from './schemas.js';

export interface MessageRoutesOptions {
  store: Store;
}

interface PostMessageBody {
  eventType: string;
  payload: unknown;
  receiverIds?: string[];
  idempotencyKey?: string;
}

const tags = ['messages'];
const errors = { 400: errorSchema, 401: errorSchema, 404: errorSchema, 413: errorSchema, 422: errorSchema, 503: errorSchema };
const IDEMPOTENCY_KEY = { type: 'string', minLength: 1, maxLength: 256, pattern: '^[\\x21-\\x7e]+$' } as const;

export const messageRoutes: FastifyPluginAsync<MessageRoutesOptions> = async (app, { store }) => {
  app.post<{ Body: PostMessageBody }>('/messages', {
    schema: {
      tags,
      summary: 'Accept an event; 202 once it and its deliveries are stored',
      description: '`receiverIds` absent = every enabled receiver whose `eventTypes` match. `Idempotency-Key` header or `idempotencyKey` field: a repeat within 24 h returns the first response and creates nothing.',
      headers: { type: 'object', properties: { 'idempotency-key': IDEMPOTENCY_KEY } },
      body: {
        type: 'object', additionalProperties: false, required: ['eventType', 'payload'],
        properties: {
          eventType: { type: 'string', minLength: 1, maxLength: 256, pattern: EVENT_TYPE_PATTERN, examples: ['invoice.paid'] },
          payload: { description: 'any JSON value, sent to receivers as `data`', examples: [{ invoiceId: 'inv_1', amount: 4200 }] },
          receiverIds: { type: 'array', minItems: 1, maxItems: 1000, uniqueItems: true, items: { type: 'string', pattern: ID_PATTERN.rcv } },
          idempotencyKey: IDEMPOTENCY_KEY,
        },
      },
      response: { 202: acceptedMessageSchema, ...errors },
    },
  }, async (request, reply) => {
    const { body } = request;
    const idempotencyKey = idempotencyKeyOf(request);
    const result = await store.messages.accept({ eventType: body.eventType, payload: body.payload, receiverIds: body.receiverIds, idempotencyKey });
    if (result.kind === 'unknown-receiver') {
      throw badField(`receiverIds[${body.receiverIds?.indexOf(result.receiverId)}]`, `names no receiver (${result.receiverId})`, 422);
    }
    if (result.kind === 'duplicate') void reply.header('idempotent-replayed', 'true');
    else await scheduleDrains(request, store, result.message);
    return reply.status(202).send(result.message);
  });

  app.get<{ Params: { id: string } }>('/messages/:id', {
    schema: { tags, summary: 'A message with every delivery and every attempt', params: messageIdParams, response: { 200: messageSchema, ...errors } },
  }, async (request) => (await store.messages.get(request.params.id)) ?? Promise.reject(notFound(`message ${request.params.id}`)));

  app.post<{ Params: { id: string }; Body: { receiverIds?: string[] } | null }>('/messages/:id/resend', {
    schema: {
      tags, summary: 'Send a message again: a new delivery to each receiver (default: the receivers it was sent to)', params: messageIdParams,
      body: { type: ['object', 'null'], additionalProperties: false, properties: { receiverIds: { type: 'array', minItems: 1, maxItems: 1000, uniqueItems: true, items: { type: 'string', pattern: ID_PATTERN.rcv } } } },
      response: { 202: acceptedMessageSchema, ...errors },
    },
  }, async (request, reply) => {
    const result = await store.messages.resend(request.params.id, request.body?.receiverIds);
    if (result.kind === 'not-found') throw notFound(`message ${request.params.id}`);
    if (result.kind === 'unknown-receiver') throw badField(`receiverIds[${request.body?.receiverIds?.indexOf(result.receiverId)}]`, `names no receiver (${result.receiverId})`, 422);
    await scheduleDrains(request, store, result.message);
    return reply.status(202).send(result.message);
  });
};

function idempotencyKeyOf(request: FastifyRequest<{ Body: PostMessageBody }>): string | undefined {
  const header = request.headers['idempotency-key'];
  const fromHeader = typeof header === 'string' ? header : undefined;
  const fromBody = request.body.idempotencyKey;
  if (fromHeader && fromBody && fromHeader !== fromBody) throw badField('idempotencyKey', 'differs from the Idempotency-Key header; send one or make them equal');
  return fromHeader ?? fromBody;
}

/**
 * The message is already stored; if queueing its drain jobs fails now (Redis gone that very
 * moment), the emitters' reconciler schedules them later, so the 202 still stands.
 */
async function scheduleDrains(request: FastifyRequest, store: Store, message: AcceptedMessage): Promise<void> {
  await store.drains.schedule(message.receiverIds).catch((error: unknown) => {
    request.log.warn({ err: error, messageId: message.id }, 'message stored but drain jobs not queued; the reconciler will queue them');
  });
}
