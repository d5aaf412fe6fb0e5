import { ID_PATTERN } from '../ids.js';
import { errorExample, type ErrorStatus } from './examples.js';

/** JSON schemas shared by the route plugins; every route also lists them for the OpenAPI document. */

export const EVENT_TYPE_PATTERN = '^[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*$';
const EVENT_FILTER_PATTERN = '^(\\*|[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*(\\.\\*)?)$';
const HEADER_NAME_PATTERN = "^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$";

export const errorSchema = {
  type: 'object',
  properties: { statusCode: { type: 'integer' }, error: { type: 'string' }, message: { type: 'string' }, field: { type: 'string' } },
  required: ['statusCode', 'message'],
} as const;

/** `schema` with one example, which /docs shows as the request's or response's example. */
export function withExample<S extends object>(schema: S, example: unknown): S & { examples: unknown[] } {
  return { ...schema, examples: [example] };
}

/** The error responses of a route, each with an example body. */
export function errorResponses(...statuses: ErrorStatus[]): Record<number, typeof errorSchema & { examples: unknown[] }> {
  return Object.fromEntries(statuses.map((status) => [status, withExample(errorSchema, errorExample(status))]));
}

export const receiverIdParams = {
  type: 'object',
  properties: { id: { type: 'string', pattern: ID_PATTERN.rcv, description: 'receiver id (rcv_…)' } },
  required: ['id'],
} as const;

export const messageIdParams = {
  type: 'object',
  properties: { id: { type: 'string', pattern: ID_PATTERN.msg, description: 'message id (msg_…)' } },
  required: ['id'],
} as const;

const receiverFields = {
  url: { type: 'string', minLength: 1, maxLength: 2048, description: 'http or https URL the webhooks are POSTed to', examples: ['https://example.com/hook'] },
  eventTypes: {
    type: 'array', maxItems: 256, uniqueItems: true,
    items: { type: 'string', maxLength: 256, pattern: EVENT_FILTER_PATTERN },
    description: 'event types to receive; empty = all; `a.*` matches `a.b` and `a.b.c`', examples: [['invoice.*']],
  },
  secret: { type: 'string', maxLength: 128, description: 'signing secret `whsec_<base64>`; generated when absent' },
  description: { type: 'string', maxLength: 1024 },
  headers: {
    type: 'object', maxProperties: 32, propertyNames: { pattern: HEADER_NAME_PATTERN },
    additionalProperties: { type: 'string', maxLength: 1024 }, description: 'extra headers sent with every request', examples: [{ 'x-tenant': 'acme' }],
  },
  timeoutMs: { type: 'integer', minimum: 100, maximum: 120000, description: 'request timeout for this receiver' },
  enabled: { type: 'boolean' },
} as const;

export const createReceiverBody = { type: 'object', additionalProperties: false, properties: receiverFields, required: ['url'] } as const;
export const patchReceiverBody = { type: 'object', additionalProperties: false, minProperties: 1, properties: receiverFields } as const;

export const receiverSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    ...receiverFields,
    createdAt: { type: 'string' },
    updatedAt: { type: 'string' },
    disabledReason: { type: 'string' },
    health: {
      type: 'object',
      properties: {
        lastSuccessAt: { type: ['string', 'null'] },
        lastFailureAt: { type: ['string', 'null'] },
        consecutiveFailures: { type: 'integer' },
        nextRetryAt: { type: ['string', 'null'] },
        queueDepth: { type: 'integer', description: 'deliveries not finished yet' },
        deadLetters: { type: 'integer', description: 'deliveries that used up their retries (replay them)' },
      },
    },
  },
} as const;

const attemptSchema = {
  type: 'object',
  properties: {
    attempt: { type: 'integer' }, startedAt: { type: 'string' }, durationMs: { type: 'number' },
    statusCode: { type: ['integer', 'null'] }, error: { type: ['string', 'null'] },
    emitterId: { type: 'string' }, fence: { type: 'integer' },
    responseBody: { type: 'string' }, responseHeaders: { type: 'object', additionalProperties: { type: 'string' } },
  },
} as const;

export const deadLetterPageSchema = {
  type: 'object',
  properties: {
    data: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          messageId: { type: 'string' }, eventType: { type: 'string' }, messageCreatedAt: { type: 'string' }, diedAt: { type: 'string' },
          attempts: { type: 'integer' }, lastAttempt: { anyOf: [attemptSchema, { type: 'null' }] },
        },
      },
    },
    next: { type: ['string', 'null'] },
  },
} as const;

export const acceptedMessageSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' }, eventType: { type: 'string' }, createdAt: { type: 'string' },
    receiverIds: { type: 'array', items: { type: 'string' } },
  },
} as const;

export const messageSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' }, eventType: { type: 'string' }, createdAt: { type: 'string' }, payload: {},
    deliveries: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          receiverId: { type: 'string' },
          status: { type: 'string', enum: ['pending', 'delivering', 'delivered', 'retrying', 'dead', 'cancelled'] },
          nextAttemptAt: { type: ['string', 'null'] },
          attempts: { type: 'array', items: attemptSchema },
        },
      },
    },
  },
} as const;
