import { ID_PATTERN } from '../ids.js';
import { notFound, REASONS, type HttpError } from './errors.js';
import { errorExample, examples } from './examples.js';
import { MASK } from './receiver-view.js';

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

/** An error body as the error handler (errors.ts) sends it. */
export interface ErrorBody { statusCode: number; error: string; message: string; field?: string }

/** The body a route's own error (badField, notFound) leaves as, so documented errors read exactly as sent. */
export function errorBodyOf(error: HttpError): ErrorBody {
  return { statusCode: error.statusCode, error: REASONS[error.statusCode] ?? 'Error', message: error.message, ...(error.field ? { field: error.field } : {}) };
}

/** The 400 a request part gets when it does not match its schema's pattern (worded as errors.ts words ajv's error). */
export function patternMismatch(field: string, pattern: string): ErrorBody {
  return { statusCode: 400, error: REASONS[400] ?? 'Bad Request', message: `${field} must match pattern "${pattern}"`, field };
}

/** Error examples several routes share: the same id check and the same lookup answer each of them. */
export const errorExamples = {
  badReceiverId: patternMismatch('params.id', ID_PATTERN.rcv),
  badMessageId: patternMismatch('params.id', ID_PATTERN.msg),
  receiverNotFound: errorBodyOf(notFound(`receiver ${examples.receiverId}`)),
  messageNotFound: errorBodyOf(notFound(`message ${examples.messageId}`)),
  unknownReceiverId: errorExample(422),
  bodyTooLarge: errorExample(413),
} as const;

/**
 * The error responses of a /v1 route, each with the given example body, plus the two every /v1
 * route can answer: 401 without a valid token, 503 while Redis is unreachable.
 */
export function errorResponses(...bodies: ErrorBody[]): Record<number, typeof errorSchema & { examples: unknown[] }> {
  const all = [...bodies, errorExample(401), errorExample(503)];
  return Object.fromEntries(all.map((body) => [body.statusCode, withExample(errorSchema, body)]));
}

export const receiverIdParams = {
  type: 'object',
  properties: { id: { type: 'string', pattern: ID_PATTERN.rcv, description: 'receiver id (rcv_…)', examples: [examples.receiverId] } },
  required: ['id'],
} as const;

export const messageIdParams = {
  type: 'object',
  properties: { id: { type: 'string', pattern: ID_PATTERN.msg, description: 'message id (msg_…)', examples: [examples.messageId] } },
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
    additionalProperties: { type: 'string', maxLength: 1024 },
    description: 'extra headers sent with every request. Values may not hold control characters (CR, LF, NUL…) or characters above U+00FF (422). '
      + `In responses, the values of credential-looking headers (authorization, cookie, names holding token, key or secret) are shown as "${MASK}"; `
      + 'a PATCH that sends that mask back keeps the stored value.',
    examples: [{ 'x-tenant': 'acme' }],
  },
  timeoutMs: { type: 'integer', minimum: 100, maximum: 120000, description: 'request timeout for this receiver' },
  enabled: { type: 'boolean' },
  ordering: {
    type: 'string', enum: ['unordered', 'strict'],
    description: '`unordered` (default): a failed delivery waits for its own retry while the others go on. `strict`: nothing is sent while an earlier delivery waits for its retry (completion in acceptance order).',
  },
  maxInFlight: {
    type: 'integer', minimum: 1, maximum: 256,
    description: 'requests in flight to this receiver at once, across every emitter (default 1: one at a time). Above 1, first attempts start in acceptance order and may complete in any order; `strict` receivers must keep 1 (422).',
    examples: [4],
  },
  rateLimitPerSecond: {
    type: ['number', 'null'], minimum: 0.01, maximum: 10000,
    description: 'requests started per second, across every emitter: never more than `rateLimitBurst + rateLimitPerSecond × t` in any window of t seconds. Absent: no limit; `null` in a PATCH removes it.',
    examples: [20],
  },
  rateLimitBurst: { type: 'integer', minimum: 1, maximum: 100000, description: 'requests that may start at once after an idle spell, with `rateLimitPerSecond` (default 1)', examples: [5] },
  retrySchedule: {
    type: ['array', 'null'], minItems: 1, maxItems: 50, items: { type: 'number', minimum: 0, maximum: 604800 },
    description: 'seconds between attempts, used instead of LOCKSTEP_RETRY_SCHEDULE; its length is the number of retries. Absent: the default; `null` in a PATCH goes back to it.',
    examples: [[5, 60, 600]],
  },
} as const;

export const createReceiverBody = { type: 'object', additionalProperties: false, properties: receiverFields, required: ['url'] } as const;
export const patchReceiverBody = { type: 'object', additionalProperties: false, minProperties: 1, properties: receiverFields } as const;

/** The receiver fields a response shows: all but the secret (see receiver-view.ts). */
const { secret: secretField, ...shownFields } = receiverFields;

export const receiverSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    ...shownFields,
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
        breaker: {
          type: 'object',
          description: 'the circuit breaker: `open` after LOCKSTEP_BREAKER_FAILURES consecutive failures or a 429/503; one probe per retry step until a success closes it',
          properties: { state: { type: 'string', enum: ['closed', 'open'] }, since: { type: ['string', 'null'] }, nextProbeAt: { type: ['string', 'null'] } },
        },
        queueDepth: { type: 'integer', description: 'deliveries not finished yet' },
        deadLetters: { type: 'integer', description: 'deliveries that used up their retries (replay them)' },
      },
    },
  },
} as const;

/** The 201 of a create: the only receiver answer that carries the secret. */
export const createdReceiverSchema = {
  ...receiverSchema,
  properties: { ...receiverSchema.properties, secret: { ...secretField, description: 'the signing secret: shown here and by GET /v1/receivers/{id}/secret only' } },
} as const;

export const receiverSecretSchema = {
  type: 'object',
  properties: { secret: { type: 'string', description: 'signing secret `whsec_<base64>`' } },
  required: ['secret'],
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
          attempts: { type: 'array', items: attemptSchema, description: 'the first 3 and the last 10 attempts' },
          omittedAttempts: { type: 'integer', description: 'attempts made between those listed and left out (0 up to 13 attempts)' },
        },
      },
    },
  },
} as const;
