import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { ID_PATTERN } from '../ids.js';
import type { Metrics } from '../metrics/index.js';
import type { Store } from '../store/index.js';
import { batchCut, batchMessageKey } from './batch.js';
import { badField, notFound } from './errors.js';
import { checkPayloadDepth, tooDeep } from './payload-depth.js';
import { errorExample, examples, message as messageExample } from './examples.js';
import {
  acceptedMessageSchema, errorBodyOf, errorExamples, errorResponses, EVENT_TYPE_PATTERN, messageIdParams, messageSchema, patternMismatch, withExample,
} from './schemas.js';

export interface MessageRoutesOptions {
  store: Store;
  metrics: Metrics;
  bodyLimitBytes: number;
}

interface PostMessageBody {
  eventType: string;
  payload: unknown;
  receiverIds?: string[];
  idempotencyKey?: string;
}

const tags = ['messages'];
const acceptedResponse = withExample(acceptedMessageSchema, examples.accepted);
const IDEMPOTENCY_KEY = { type: 'string', minLength: 1, maxLength: 256, pattern: '^[\\x21-\\x7e]+$' } as const;
const RECEIVER_IDS = { type: 'array', minItems: 1, maxItems: 1000, uniqueItems: true, items: { type: 'string', pattern: ID_PATTERN.rcv } } as const;

const newMessageSchema = {
  type: 'object', additionalProperties: false, required: ['eventType', 'payload'],
  properties: {
    eventType: { type: 'string', minLength: 1, maxLength: 256, pattern: EVENT_TYPE_PATTERN, examples: ['invoice.paid'] },
    payload: { description: 'any JSON value, sent to receivers as `data`; nested at most 64 levels deep (422 beyond)', examples: [{ invoiceId: 'inv_1', amount: 4200 }] },
    receiverIds: RECEIVER_IDS,
    idempotencyKey: IDEMPOTENCY_KEY,
  },
} as const;

/** A batch may be this many times larger than a single request body. */
const BATCH_BODY_FACTOR = 20;

/** An explicit receiver id that names no receiver; `field` says where in the body it was. */
const unknownReceiver = (field: string, receiverId: string) => badField(field, `names no receiver (${receiverId})`, 422);

/** What each route answers when the request is wrong, shown with the body it gets. */
const errorsOf = {
  accept: errorResponses(patternMismatch('eventType', EVENT_TYPE_PATTERN), errorExamples.bodyTooLarge, errorExamples.unknownReceiverId),
  acceptBatch: errorResponses(
    patternMismatch('messages.0.eventType', EVENT_TYPE_PATTERN), errorExample(409), errorExamples.bodyTooLarge,
    errorBodyOf(unknownReceiver('messages[1].receiverIds[0]', examples.receiverId)), errorBodyOf(tooDeep('messages[1].payload')),
  ),
  read: errorResponses(errorExamples.badMessageId, errorExamples.messageNotFound),
  resend: errorResponses(patternMismatch('receiverIds.0', ID_PATTERN.rcv), errorExamples.messageNotFound, errorExamples.bodyTooLarge, errorExamples.unknownReceiverId),
};

export const messageRoutes: FastifyPluginAsync<MessageRoutesOptions> = async (app, { store, metrics, bodyLimitBytes }) => {
  app.post<{ Body: PostMessageBody }>('/messages', {
    schema: {
      tags,
      summary: 'Accept an event; 202 once it and its deliveries are stored',
      description: '`receiverIds` absent = every enabled receiver whose `eventTypes` match. `Idempotency-Key` header or `idempotencyKey` field: a repeat within 24 h returns the first response and creates nothing.',
      headers: { type: 'object', properties: { 'idempotency-key': IDEMPOTENCY_KEY } },
      body: withExample(newMessageSchema, examples.newMessage),
      response: { 202: acceptedResponse, ...errorsOf.accept },
    },
  }, async (request, reply) => {
    const { body } = request;
    checkPayloadDepth(body.payload, 'payload');
    const idempotencyKey = idempotencyKeyOf(request);
    const result = await store.messages.accept({ eventType: body.eventType, payload: body.payload, receiverIds: body.receiverIds, idempotencyKey });
    if (result.kind === 'unknown-receiver') {
      throw unknownReceiver(`receiverIds[${body.receiverIds?.indexOf(result.receiverId)}]`, result.receiverId);
    }
    if (result.kind === 'duplicate') void reply.header('idempotent-replayed', 'true');
    else {
      metrics.messagesAccepted(1);
      await scheduleDrains(request, store, result.toWake);
    }
    return reply.status(202).send(result.message);
  });

  app.post<{ Body: { messages: PostMessageBody[] } }>('/messages/batch', {
    bodyLimit: bodyLimitBytes * BATCH_BODY_FACTOR,
    schema: {
      tags,
      summary: 'Accept up to 1,000 messages in one request (one round trip to Redis)',
      description: `Each message is stored atomically, exactly as by POST /v1/messages; the answer lists them in order. An explicit receiver id that does not exist refuses the whole batch with 422 before anything is stored. Body limit: ${BATCH_BODY_FACTOR}× the single-message limit. `
        + '`Idempotency-Key` header: covers the whole batch (a message with its own `idempotencyKey` keeps that one); a repeat within 24 h stores nothing it stored before and answers with the same ids, marked `duplicate`. '
        + 'A 409 (a named receiver deleted while the batch was being stored) lists exactly which messages were stored; their deliveries go ahead.',
      headers: { type: 'object', properties: { 'idempotency-key': IDEMPOTENCY_KEY } },
      body: withExample(
        { type: 'object', additionalProperties: false, required: ['messages'], properties: { messages: { type: 'array', minItems: 1, maxItems: 1000, items: newMessageSchema } } },
        { messages: [examples.newMessage, { eventType: 'invoice.voided', payload: { invoiceId: 'inv_43' } }] },
      ),
      response: {
        202: withExample(
          { type: 'object', properties: { data: { type: 'array', items: { ...acceptedMessageSchema, properties: { ...acceptedMessageSchema.properties, duplicate: { type: 'boolean' } } } } } },
          { data: [{ ...examples.accepted, duplicate: true }, { ...examples.accepted, id: 'msg_01m81ty5qz3thq4wqvkn0xgt6c', eventType: 'invoice.voided' }] },
        ),
        ...errorsOf.acceptBatch,
      },
    },
  }, async (request, reply) => {
    const { messages } = request.body;
    for (const [index, message] of messages.entries()) checkPayloadDepth(message.payload, `messages[${index}].payload`);
    await refuseUnknownReceivers(store, messages);
    const batchKey = headerKey(request);
    const results = await store.messages.acceptMany(batchKey === undefined ? messages : messages.map((message, index) => ({ ...message, idempotencyKey: message.idempotencyKey ?? batchMessageKey(batchKey, index) })));
    // What was stored is counted and drained even when part of the batch was refused.
    metrics.messagesAccepted(results.filter((result) => result.kind === 'accepted').length);
    await scheduleDrains(request, store, results.flatMap((result) => (result.kind === 'accepted' ? result.toWake : [])));
    const cut = batchCut(results, batchKey !== undefined);
    if (cut) throw cut;
    if (results.length > 0 && results.every((result) => result.kind === 'duplicate')) void reply.header('idempotent-replayed', 'true');
    const data = results.map((result) => (result.kind === 'duplicate' ? { ...result.message, duplicate: true } : result.kind === 'accepted' ? result.message : null));
    return reply.status(202).send({ data });
  });

  app.get<{ Params: { id: string } }>('/messages/:id', {
    schema: { tags, summary: 'A message with every delivery and every attempt', params: messageIdParams, response: { 200: withExample(messageSchema, messageExample), ...errorsOf.read } },
  }, async (request) => (await store.messages.get(request.params.id)) ?? Promise.reject(notFound(`message ${request.params.id}`)));

  app.post<{ Params: { id: string }; Body: { receiverIds?: string[] } | null }>('/messages/:id/resend', {
    schema: {
      tags, summary: 'Send a message again: a new delivery to each receiver (default: the receivers it was sent to)', params: messageIdParams,
      body: withExample({ type: ['object', 'null'], additionalProperties: false, properties: { receiverIds: RECEIVER_IDS } }, { receiverIds: [examples.receiverId] }),
      response: { 202: acceptedResponse, ...errorsOf.resend },
    },
  }, async (request, reply) => {
    const result = await store.messages.resend(request.params.id, request.body?.receiverIds);
    if (result.kind === 'not-found') throw notFound(`message ${request.params.id}`);
    if (result.kind === 'unknown-receiver') throw unknownReceiver(`receiverIds[${request.body?.receiverIds?.indexOf(result.receiverId)}]`, result.receiverId);
    await scheduleDrains(request, store, result.message.receiverIds);
    return reply.status(202).send(result.message);
  });
};

function headerKey(request: FastifyRequest): string | undefined {
  const header = request.headers['idempotency-key'];
  return typeof header === 'string' ? header : undefined;
}

function idempotencyKeyOf(request: FastifyRequest<{ Body: PostMessageBody }>): string | undefined {
  const fromHeader = headerKey(request);
  const fromBody = request.body.idempotencyKey;
  if (fromHeader && fromBody && fromHeader !== fromBody) throw badField('idempotencyKey', 'differs from the Idempotency-Key header; send one or make them equal');
  return fromHeader ?? fromBody;
}

/** How long a 202 may wait for its drain jobs to be queued before leaving that to the reconciler. */
const SCHEDULE_TIMEOUT_MS = 1000;

/**
 * The messages are already stored; if queueing their drain jobs fails or stalls now (Redis gone
 * that very moment: BullMQ waits for its connection), the emitters' reconciler queues them later,
 * so the 202 stands and is not held up.
 */
async function scheduleDrains(request: FastifyRequest, store: Store, receiverIds: string[]): Promise<void> {
  if (receiverIds.length === 0) return;
  const scheduling = store.drains.schedule([...new Set(receiverIds)]);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not queued within ${SCHEDULE_TIMEOUT_MS} ms`)), SCHEDULE_TIMEOUT_MS);
  });
  await Promise.race([scheduling, timeout]).catch((error: unknown) => {
    scheduling.catch(() => {}); // it may still fail later; the reconciler covers it either way
    request.log.warn({ err: error }, 'messages stored but drain jobs not queued; the reconciler will queue them');
  }).finally(() => clearTimeout(timer));
}

/** A batch naming a receiver that does not exist is refused whole, before anything is stored. */
async function refuseUnknownReceivers(store: Store, messages: PostMessageBody[]): Promise<void> {
  const named = [...new Set(messages.flatMap((message) => message.receiverIds ?? []))];
  const existing = await store.receivers.existing(named);
  for (const [index, message] of messages.entries()) {
    const unknownId = (message.receiverIds ?? []).find((id) => !existing.has(id));
    if (unknownId !== undefined) throw unknownReceiver(`messages[${index}].receiverIds[${message.receiverIds?.indexOf(unknownId)}]`, unknownId);
  }
}
