import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { badField } from '../errors.js';
import { badHeaderValue, blockedUrl } from '../domain/receiver-input.js';
import { publicReceiver } from '../domain/receiver-view.js';
import { sinceWithMessageIds, type Receivers } from '../domain/receivers.js';
import { receiverSecret } from '../domain/signing.js';
import { DEAD_LETTER_CURSOR_PATTERN, ID_PATTERN } from '../shapes/common.js';
import {
  CreatedReceiverResponse,
  CreateReceiverSchema,
  DeadLetterPageResponse,
  ListQuerySchema,
  PatchReceiverSchema,
  PublicReceiverResponse,
  ReceiverListQuerySchema,
  ReceiverPageResponse,
  ReceiverSecretSchema,
  ReplayBodySchema,
  ReplayResultResponse,
} from '../shapes/receivers.js';
import { RotatedSecretResponse, RotateSecretSchema } from '../shapes/signing.js';
import { errorBodyOf } from './errors.js';
import { createdReceiver, deadLetterPage, errorExample, examples } from './examples.js';
import { errorExamples, errorResponses, patternMismatch, receiverIdParams, withExample } from './schemas.js';

export interface ReceiverRoutesOptions {
  receivers: Receivers;
}

const tags = ['receivers'];
const listQuery = ReceiverListQuerySchema(ID_PATTERN.rcv);
const deadLetterQuery = ListQuerySchema(DEAD_LETTER_CURSOR_PATTERN);
const receiverResponse = withExample(PublicReceiverResponse, examples.receiver);

/** What each route answers when the request is wrong, shown with the body it gets. */
const errorsOf = {
  create: errorResponses(errorExample(400), errorBodyOf(badHeaderValue('x-tenant'))),
  list: errorResponses(patternMismatch('querystring.limit', listQuery.properties.limit.pattern ?? '')),
  read: errorResponses(errorExamples.badReceiverId, errorExamples.receiverNotFound),
  patch: errorResponses(errorBodyOf(badField('enabled', 'must be boolean')), errorExamples.receiverNotFound, errorBodyOf(blockedUrl('private'))),
  secret: errorResponses(errorExamples.badReceiverId, errorExamples.receiverNotFound),
  rotate: errorResponses(errorBodyOf(badField('overlapMs', 'must be at least 0')), errorExamples.receiverNotFound),
  deadLetters: errorResponses(patternMismatch('querystring.cursor', DEAD_LETTER_CURSOR_PATTERN), errorExamples.receiverNotFound),
  replay: errorResponses(errorBodyOf(sinceWithMessageIds()), errorExamples.receiverNotFound),
};

/** Receiver management: each route is its schema and one call to the receivers module. */
export const receiverRoutes: FastifyPluginCallbackTypebox<ReceiverRoutesOptions> = (app, { receivers }, done) => {
  app.post(
    '/receivers',
    {
      schema: {
        tags,
        operationId: 'createReceiver',
        summary: 'Register a receiver; the answer is the only one, with GET …/secret, that shows its signing secret',
        body: withExample(CreateReceiverSchema, examples.newReceiver),
        response: { 201: withExample(CreatedReceiverResponse, createdReceiver), ...errorsOf.create },
      },
    },
    async (request, reply) => {
      const receiver = await receivers.create(request.body, request.log, request.principal);
      return reply.status(201).send({ ...publicReceiver(receiver), secret: receiverSecret(receiver).secret });
    },
  );

  app.get(
    '/receivers',
    {
      schema: {
        tags,
        operationId: 'listReceivers',
        summary: "List receivers, oldest first: all, or one tenant's (a tenant token sees only its own)",
        querystring: listQuery,
        response: { 200: withExample(ReceiverPageResponse, { data: [examples.receiver], next: null }), ...errorsOf.list },
      },
    },
    async (request) => {
      const { limit, cursor, tenantId } = request.query;
      const page = await receivers.list(Number(limit ?? 50), cursor, tenantId, request.principal);
      return { ...page, data: page.data.map(publicReceiver) };
    },
  );

  app.get(
    '/receivers/:id',
    {
      schema: {
        tags,
        operationId: 'getReceiver',
        summary: 'Get a receiver with its health',
        params: receiverIdParams,
        response: { 200: receiverResponse, ...errorsOf.read },
      },
    },
    async (request) => publicReceiver(await receivers.get(request.params.id)),
  );

  app.get(
    '/receivers/:id/secret',
    {
      schema: {
        tags,
        operationId: 'getReceiverSecret',
        summary: "The receiver's signing secret, or its ed25519 public key (list, get and patch never show it), and the end of a rotation's overlap",
        params: receiverIdParams,
        response: { 200: withExample(ReceiverSecretSchema, examples.secret), ...errorsOf.secret },
      },
    },
    async (request) => receivers.secret(request.params.id, request.log),
  );

  app.post(
    '/receivers/:id/secret/rotate',
    {
      schema: {
        tags,
        operationId: 'rotateReceiverSecret',
        summary: 'Rotate the signing key: the previous one keeps signing beside the new one until the overlap ends',
        description:
          'Every delivery attempt that starts after this call answers carries the new signature first and, until `previousSecretExpiresAt`, the previous one too (`v1,<new> v1,<old>`), so a receiver holding either key verifies it: the answer waits (up to a second) until every emitter has taken the new key in. The overlap ends on Redis’s clock. A `secret` of the other scheme switches scheme (a `whsk_` on an hmac-sha256 receiver: `v1a,<new> v1,<old>`).',
        params: receiverIdParams,
        body: withExample(RotateSecretSchema, examples.rotate),
        response: { 200: withExample(RotatedSecretResponse, examples.rotated), ...errorsOf.rotate },
      },
    },
    async (request) => receivers.rotateSecret(request.params.id, request.body, request.log, request.principal),
  );

  app.patch(
    '/receivers/:id',
    {
      schema: {
        tags,
        operationId: 'updateReceiver',
        summary: 'Change any field of a receiver; enabling it resumes its queue',
        description:
          'Every delivery attempt that starts after this call answers uses the new settings (the answer waits, up to a second, until every emitter has taken the change in); a request already in flight finishes as it started. A new `secret` replaces the key at once, without an overlap: rotate it to keep the old one signing for a while.',
        params: receiverIdParams,
        body: withExample(PatchReceiverSchema, examples.receiverPatch),
        response: { 200: receiverResponse, ...errorsOf.patch },
      },
    },
    async (request) => publicReceiver(await receivers.update(request.params.id, request.body, request.log, request.principal)),
  );

  app.delete(
    '/receivers/:id',
    {
      schema: {
        tags,
        operationId: 'deleteReceiver',
        summary: 'Delete a receiver; its pending deliveries are cancelled and none is sent after the 204',
        params: receiverIdParams,
        response: { 204: Type.Null(), ...errorsOf.read },
      },
    },
    async (request, reply) => {
      await receivers.delete(request.params.id, request.principal, request.log);
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/receivers/:id/dead-letters',
    {
      schema: {
        tags,
        operationId: 'listDeadLetters',
        summary: "The receiver's dead letters (deliveries that used up their retries), most recent first, with their last attempt",
        params: receiverIdParams,
        querystring: deadLetterQuery,
        response: { 200: withExample(DeadLetterPageResponse, deadLetterPage), ...errorsOf.deadLetters },
      },
    },
    async (request) => receivers.deadLetters(request.params.id, Number(request.query.limit ?? 50), request.query.cursor),
  );

  app.post(
    '/receivers/:id/replay',
    {
      schema: {
        tags,
        operationId: 'replayDeadLetters',
        summary: "Re-queue the receiver's dead deliveries: all, those that died since a time, or the listed messages",
        params: receiverIdParams,
        description:
          '`messageIds`: replay only these dead letters (ids that are not dead letters of this receiver are skipped and not counted). `since` and `messageIds` exclude each other.',
        body: withExample(ReplayBodySchema, { messageIds: examples.messageIds }),
        response: { 202: withExample(ReplayResultResponse, { count: 1 }), ...errorsOf.replay },
      },
    },
    async (request, reply) => reply.status(202).send({ count: await receivers.replay(request.params.id, request.body ?? {}, request.log) }),
  );
  done();
};
