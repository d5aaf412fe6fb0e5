import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { AddressGuard } from '../delivery/address-guard.js';
import { generateSecret, isValidSecret } from '../delivery/sign.js';
import type { ReceiverLocks } from '../locks/types.js';
import type { Store } from '../store/index.js';
import type { ReceiverSettings } from '../store/types.js';
import { badField, notFound } from './errors.js';
import { ID_PATTERN } from '../ids.js';
import { deadLetterPage, errorExample, examples } from './examples.js';
import {
  createReceiverBody, deadLetterPageSchema, errorBodyOf, errorExamples, errorResponses, patchReceiverBody, patternMismatch, receiverIdParams, receiverSchema, withExample,
} from './schemas.js';

export interface ReceiverRoutesOptions {
  store: Store;
  locks: ReceiverLocks;
  guard: AddressGuard;
  defaultTimeoutMs: number;
}

/** Headers Lockstep sets itself: a receiver's custom headers may not replace them. */
const RESERVED_HEADERS = /^(host|content-type|content-length|transfer-encoding|connection|keep-alive|upgrade|te|trailer|expect|webhook-.*)$/i;

type CreateBody = Partial<ReceiverSettings> & { url: string };
type IdParams = { id: string };

const tags = ['receivers'];
const LIMIT = { type: 'string', pattern: '^([1-9][0-9]?|[1-4][0-9]{2}|500)$', description: '1 to 500 (default 50)' } as const;
const DEAD_LETTER_CURSOR = '^[0-9]{1,15}\\.msg_[0-9a-z]{26}$';
const receiverResponse = withExample(receiverSchema, examples.receiver);

/** A url the address guard refuses; `problem` is what the guard says about it. */
const blockedUrl = (problem: string) => badField('url', `points at a blocked address (${problem}); set LOCKSTEP_ALLOW_PRIVATE_NETWORKS=true for development`, 422);
const sinceWithMessageIds = () => badField('since', 'cannot be combined with messageIds; send one of them');

/** What each route answers when the request is wrong, shown with the body it gets. */
const errorsOf = {
  create: errorResponses(errorExample(400), errorBodyOf(blockedUrl('private'))),
  list: errorResponses(patternMismatch('querystring.limit', LIMIT.pattern)),
  read: errorResponses(errorExamples.badReceiverId, errorExamples.receiverNotFound),
  patch: errorResponses(errorBodyOf(badField('enabled', 'must be boolean')), errorExamples.receiverNotFound, errorBodyOf(blockedUrl('private'))),
  deadLetters: errorResponses(patternMismatch('querystring.cursor', DEAD_LETTER_CURSOR), errorExamples.receiverNotFound),
  replay: errorResponses(errorBodyOf(sinceWithMessageIds()), errorExamples.receiverNotFound),
};

export const receiverRoutes: FastifyPluginAsync<ReceiverRoutesOptions> = async (app, options) => {
  const { store } = options;
  const deletes = new DeleteQueue();

  app.post<{ Body: CreateBody }>('/receivers', {
    schema: { tags, summary: 'Register a receiver', body: withExample(createReceiverBody, examples.newReceiver), response: { 201: receiverResponse, ...errorsOf.create } },
  }, async (request, reply) => {
    const body = checkReceiverInput(request.body, options.guard);
    const receiver = await store.receivers.create({
      url: body.url, eventTypes: body.eventTypes ?? [], secret: body.secret ?? generateSecret(), description: body.description ?? '',
      headers: body.headers ?? {}, timeoutMs: body.timeoutMs ?? options.defaultTimeoutMs, enabled: body.enabled ?? true, ordering: body.ordering ?? 'unordered',
    });
    request.log.info({ receiverId: receiver.id, url: receiver.url }, 'receiver registered');
    return reply.status(201).send(receiver);
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
  }, async (request) => store.receivers.list(Number(request.query.limit ?? 50), request.query.cursor));

  app.get<{ Params: IdParams }>('/receivers/:id', {
    schema: { tags, summary: 'Get a receiver with its health', params: receiverIdParams, response: { 200: receiverResponse, ...errorsOf.read } },
  }, async (request) => (await store.receivers.get(request.params.id)) ?? Promise.reject(notFound(`receiver ${request.params.id}`)));

  app.patch<{ Params: IdParams; Body: Partial<ReceiverSettings> }>('/receivers/:id', {
    schema: { tags, summary: 'Change any field of a receiver; enabling it resumes its queue', params: receiverIdParams, body: withExample(patchReceiverBody, examples.receiverPatch), response: { 200: receiverResponse, ...errorsOf.patch } },
  }, async (request) => {
    const patch = request.body.url === undefined ? checkReceiverFields(request.body) : checkReceiverInput(request.body as CreateBody, options.guard);
    const updated = await store.receivers.update(request.params.id, patch);
    if (!updated) throw notFound(`receiver ${request.params.id}`);
    if (updated.enabledNow) await store.drains.wake(request.params.id);
    request.log.info({ receiverId: request.params.id, fields: Object.keys(patch) }, 'receiver updated');
    return updated.receiver;
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
    if (!(await store.receivers.get(id))) throw notFound(`receiver ${id}`);
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
    if (!(await store.receivers.get(id))) throw notFound(`receiver ${id}`);
    const count = await store.receivers.replayDead(id, { ...(since ? { since: new Date(since) } : {}), ...(messageIds ? { messageIds } : {}) });
    if (count > 0) await store.drains.wake(id);
    request.log.info({ receiverId: id, count }, 'dead deliveries replayed');
    return reply.status(202).send({ count });
  });
};

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

function checkReceiverInput<T extends Partial<ReceiverSettings>>(body: T, guard: AddressGuard): T {
  const url = parseUrl(body.url ?? '');
  const blocked = guard.literalUrlProblem(url.toString());
  if (blocked) throw blockedUrl(blocked);
  return checkReceiverFields(body);
}

function checkReceiverFields<T extends Partial<ReceiverSettings>>(body: T): T {
  if (body.secret !== undefined && !isValidSecret(body.secret)) throw badField('secret', 'must be "whsec_" followed by base64 of 24 to 64 bytes');
  const reserved = Object.keys(body.headers ?? {}).find((name) => RESERVED_HEADERS.test(name));
  if (reserved) throw badField(`headers.${reserved}`, 'is set by Lockstep and cannot be overridden');
  return body;
}

function parseUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw badField('url', 'is not a valid absolute URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw badField('url', 'must use http or https');
  if (url.username || url.password) throw badField('url', 'must not contain credentials; use `headers` (e.g. authorization) instead');
  if (!url.hostname) throw badField('url', 'has no host');
  return url;
}
