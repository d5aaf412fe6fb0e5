import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { AddressGuard } from '../delivery/address-guard.js';
import { generateSecret } from '../delivery/sign.js';
import type { ReceiverLocks } from '../locks/types.js';
import type { Store } from '../store/index.js';
import type { ReceiverPatch, ReceiverView } from '../store/types.js';
import { badField, notFound } from './errors.js';
import { ID_PATTERN } from '../ids.js';
import { createdReceiver, deadLetterPage, errorExample, examples } from './examples.js';
import { badHeaderValue, blockedUrl, checkFlowControl, checkReceiverFields, checkReceiverInput } from './receiver-input.js';
import { publicReceiver, unmaskHeaders } from './receiver-view.js';
import {
  createReceiverBody, deadLetterPageSchema, errorBodyOf, errorExamples, errorResponses, patchReceiverBody, patternMismatch, receiverIdParams, receiverSchema, receiverSecretSchema, createdReceiverSchema, withExample,
} from './schemas.js';

export interface ReceiverRoutesOptions {
  store: Store;
  locks: ReceiverLocks;
  guard: AddressGuard;
  defaultTimeoutMs: number;
}

type CreateBody = ReceiverPatch & { url: string };
type IdParams = { id: string };

const tags = ['receivers'];
const LIMIT = { type: 'string', pattern: '^([1-9][0-9]?|[1-4][0-9]{2}|500)$', description: '1 to 500 (default 50)' } as const;
const DEAD_LETTER_CURSOR = '^[0-9]{1,15}\\.msg_[0-9a-z]{26}$';
const receiverResponse = withExample(receiverSchema, examples.receiver);

const sinceWithMessageIds = () => badField('since', 'cannot be combined with messageIds; send one of them');

/** What each route answers when the request is wrong, shown with the body it gets. */
const errorsOf = {
  create: errorResponses(errorExample(400), errorBodyOf(badHeaderValue('x-tenant'))),
  list: errorResponses(patternMismatch('querystring.limit', LIMIT.pattern)),
  read: errorResponses(errorExamples.badReceiverId, errorExamples.receiverNotFound),
  patch: errorResponses(errorBodyOf(badField('enabled', 'must be boolean')), errorExamples.receiverNotFound, errorBodyOf(blockedUrl('private'))),
  secret: errorResponses(errorExamples.badReceiverId, errorExamples.receiverNotFound),
  deadLetters: errorResponses(patternMismatch('querystring.cursor', DEAD_LETTER_CURSOR), errorExamples.receiverNotFound),
  replay: errorResponses(errorBodyOf(sinceWithMessageIds()), errorExamples.receiverNotFound),
};

export const receiverRoutes: FastifyPluginAsync<ReceiverRoutesOptions> = async (app, options) => {
  const { store } = options;
  const deletes = new DeleteQueue();

  app.post<{ Body: CreateBody }>('/receivers', {
    schema: {
      tags, summary: 'Register a receiver; the answer is the only one, with GET …/secret, that shows its signing secret',
      body: withExample(createReceiverBody, examples.newReceiver), response: { 201: withExample(createdReceiverSchema, createdReceiver), ...errorsOf.create },
    },
  }, async (request, reply) => {
    const body = checkReceiverInput(request.body, options.guard);
    checkFlowControl(body);
    const { rateLimitPerSecond, retrySchedule } = body;
    const receiver = await store.receivers.create({
      url: body.url, eventTypes: body.eventTypes ?? [], secret: body.secret ?? generateSecret(), description: body.description ?? '',
      headers: body.headers ?? {}, timeoutMs: body.timeoutMs ?? options.defaultTimeoutMs, enabled: body.enabled ?? true, ordering: body.ordering ?? 'unordered',
      maxInFlight: body.maxInFlight ?? 1, rateLimitBurst: body.rateLimitBurst ?? 1,
      ...(typeof rateLimitPerSecond === 'number' ? { rateLimitPerSecond } : {}), ...(retrySchedule ? { retrySchedule } : {}),
    });
    request.log.info({ receiverId: receiver.id }, 'receiver registered');
    return reply.status(201).send({ ...publicReceiver(receiver), secret: receiver.secret });
  });

  app.get<{ Querystring: { limit?: string; cursor?: string } }>('/receivers', {
    schema: {
      tags, summary: 'List receivers, oldest first',
      querystring: {
        type: 'object', additionalProperties: false,
        properties: { limit: LIMIT, cursor: { type: 'string', pattern: receiverIdParams.properties.id.pattern, description: '`next` of the previous page' } },
      },
      response: { 200: withExample({ type: 'object', properties: { data: { type: 'array', items: receiverSchema }, next: { type: ['string', 'null'] } } }, { data: [examples.receiver], next: null }), ...errorsOf.list },
    },
  }, async (request) => {
    const page = await store.receivers.list(Number(request.query.limit ?? 50), request.query.cursor);
    return { ...page, data: page.data.map(publicReceiver) };
  });

  app.get<{ Params: IdParams }>('/receivers/:id', {
    schema: { tags, summary: 'Get a receiver with its health', params: receiverIdParams, response: { 200: receiverResponse, ...errorsOf.read } },
  }, async (request) => publicReceiver(await found(store, request.params.id)));

  app.get<{ Params: IdParams }>('/receivers/:id/secret', {
    schema: {
      tags, summary: 'The receiver\'s signing secret (list, get and patch never show it)', params: receiverIdParams,
      response: { 200: withExample(receiverSecretSchema, examples.secret), ...errorsOf.secret },
    },
  }, async (request) => {
    const { secret } = await found(store, request.params.id);
    request.log.info({ receiverId: request.params.id }, 'receiver secret read');
    return { secret };
  });

  app.patch<{ Params: IdParams; Body: ReceiverPatch }>('/receivers/:id', {
    schema: { tags, summary: 'Change any field of a receiver; enabling it resumes its queue', params: receiverIdParams, body: withExample(patchReceiverBody, examples.receiverPatch), response: { 200: receiverResponse, ...errorsOf.patch } },
  }, async (request) => {
    const body = request.body.headers ? { ...request.body, headers: unmaskHeaders(request.body.headers, (await found(store, request.params.id)).headers) } : request.body;
    const patch = body.url === undefined ? checkReceiverFields(body) : checkReceiverInput(body as CreateBody, options.guard);
    if (patch.ordering === 'strict' || (patch.maxInFlight ?? 1) > 1) checkFlowControl(patch, await found(store, request.params.id));
    const updated = await store.receivers.update(request.params.id, patch);
    if (!updated) throw notFound(`receiver ${request.params.id}`);
    if (updated.enabledNow) await store.drains.wake(request.params.id);
    request.log.info({ receiverId: request.params.id, fields: Object.keys(patch) }, 'receiver updated');
    return publicReceiver(updated.receiver);
  });

  app.delete<{ Params: IdParams }>('/receivers/:id', {
    schema: { tags, summary: 'Delete a receiver; its pending deliveries are cancelled and none is sent after the 204', params: receiverIdParams, response: { 204: { type: 'null' }, ...errorsOf.read } },
  }, async (request, reply) => {
    await deletes.run(request.params.id, () => deleteReceiver(app, options, request.params.id));
    return reply.status(204).send();
  });

  app.get<{ Params: IdParams; Querystring: { limit?: string; cursor?: string } }>('/receivers/:id/dead-letters', {
    schema: {
      tags, summary: 'The receiver\'s dead letters (deliveries that used up their retries), most recent first, with their last attempt', params: receiverIdParams,
      querystring: {
        type: 'object', additionalProperties: false,
        properties: { limit: LIMIT, cursor: { type: 'string', pattern: DEAD_LETTER_CURSOR, description: '`next` of the previous page' } },
      },
      response: { 200: withExample(deadLetterPageSchema, deadLetterPage), ...errorsOf.deadLetters },
    },
  }, async (request) => {
    const { id } = request.params;
    await found(store, id);
    return store.deadLetters.list(id, Number(request.query.limit ?? 50), request.query.cursor);
  });

  app.post<{ Params: IdParams; Body: { status?: 'dead'; since?: string; messageIds?: string[] } | null }>('/receivers/:id/replay', {
    schema: {
      tags, summary: 'Re-queue the receiver\'s dead deliveries: all, those that died since a time, or the listed messages', params: receiverIdParams,
      description: '`messageIds`: replay only these dead letters (ids that are not dead letters of this receiver are skipped and not counted). `since` and `messageIds` exclude each other.',
      body: withExample({
        type: ['object', 'null'], additionalProperties: false,
        properties: {
          status: { type: 'string', enum: ['dead'] }, since: { type: 'string', format: 'date-time' },
          messageIds: { type: 'array', minItems: 1, maxItems: 1000, uniqueItems: true, items: { type: 'string', pattern: ID_PATTERN.msg } },
        },
      }, { messageIds: examples.messageIds }),
      response: { 202: withExample({ type: 'object', properties: { count: { type: 'integer', description: 'deliveries re-queued' } } }, { count: 1 }), ...errorsOf.replay },
    },
  }, async (request, reply) => {
    const { id } = request.params;
    const { since, messageIds } = request.body ?? {};
    if (since !== undefined && messageIds !== undefined) throw sinceWithMessageIds();
    await found(store, id);
    const count = await store.receivers.replayDead(id, { ...(since ? { since: new Date(since) } : {}), ...(messageIds ? { messageIds } : {}) });
    if (count > 0) await store.drains.wake(id);
    request.log.info({ receiverId: id, count }, 'dead deliveries replayed');
    return reply.status(202).send({ count });
  });
};

async function found(store: Store, id: string): Promise<ReceiverView> {
  return (await store.receivers.get(id)) ?? Promise.reject(notFound(`receiver ${id}`));
}

/**
 * Deletes of one receiver in this API process, one after another. This process has one lock
 * session, and one session can hold a receiver only once: two deletes racing for the lock would
 * collide inside it. So a delete that finds another one of the same receiver under way waits for
 * it, then runs from the start: it finds the receiver gone (404), or deletes it if the earlier one
 * failed. Deletes in different processes are kept apart by the lock itself.
 */
class DeleteQueue {
  private readonly running = new Map<string, Promise<void>>();

  async run(receiverId: string, remove: () => Promise<void>): Promise<void> {
    for (let earlier = this.running.get(receiverId); earlier; earlier = this.running.get(receiverId)) await earlier.catch(() => {});
    const removal = remove();
    this.running.set(receiverId, removal);
    try {
      await removal;
    } finally {
      if (this.running.get(receiverId) === removal) this.running.delete(receiverId);
    }
  }
}

/**
 * Deletion holds the receiver's lock for the moment of the delete, so no emitter is sending to it
 * when the 204 goes out. The receiver is first marked as being deleted, so its holder's turn ends
 * after its in-flight request and no other emitter starts one while we wait. A receiver that is
 * gone at any step (another process deleted it meanwhile) is a 404, as for a delete that came after.
 */
async function deleteReceiver(app: FastifyInstance, options: ReceiverRoutesOptions, id: string): Promise<void> {
  const { store, locks } = options;
  const receiver = await store.receivers.get(id);
  if (!receiver || !(await store.receivers.markDeleting(id))) throw notFound(`receiver ${id}`);
  const lock = await locks.acquire(id, { waitMs: receiver.timeoutMs + 5000 });
  if (!lock) app.log.warn({ receiverId: id }, 'could not take the receiver lock for delete in time; deleting anyway');
  let deleted: boolean;
  try {
    deleted = await store.receivers.delete(id);
  } finally {
    if (lock) await locks.release(lock);
  }
  if (!deleted) throw notFound(`receiver ${id}`);
  app.log.info({ receiverId: id }, 'receiver deleted');
}
