import type { ErrorBody } from '../shapes/common.js';
import { MASK } from '../shapes/receivers.js';
import { UNAUTHORIZED_V1 } from './auth.js';
import { LockstepError, type LockstepErrorCode } from '../errors.js';
import { bodyTooLarge, errorBodyOf, REDIS_UNAVAILABLE } from './errors.js';

/**
 * Example values for the OpenAPI document (/docs): one realistic value per shape, reused by every
 * route that sends or returns it. test/api/openapi.test.ts checks each against its schema.
 */

const RECEIVER_ID = 'rcv_01m81ty179n6nkc35tt72nyn5a';
const MESSAGE_ID = 'msg_01m81ty5qz3thq4wqvkn0xgt6b';
const AT = '2026-11-22T14:35:31.519Z';
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

export const examples = {
  newReceiver: {
    url: 'https://billing.example.com/webhooks',
    eventTypes: ['invoice.*'],
    description: 'billing service',
    headers: { 'x-tenant': 'acme', 'x-api-key': 'billing-7Hq2x' },
    timeoutMs: 15000,
    maxInFlight: 4,
    rateLimitPerSecond: 20,
    rateLimitBurst: 5,
  },
  receiverPatch: { enabled: true, maxInFlight: 2, rateLimitPerSecond: null },
  /** As list, get and patch show it: no secret, credential header values masked. */
  receiver: {
    id: RECEIVER_ID,
    url: 'https://billing.example.com/webhooks',
    eventTypes: ['invoice.*'],
    description: 'billing service',
    headers: { 'x-tenant': 'acme', 'x-api-key': MASK },
    timeoutMs: 15000,
    enabled: true,
    signatureScheme: 'hmac-sha256',
    ordering: 'unordered',
    maxInFlight: 4,
    rateLimitPerSecond: 20,
    rateLimitBurst: 5,
    createdAt: AT,
    updatedAt: AT,
    health: {
      lastSuccessAt: AT,
      lastFailureAt: null,
      consecutiveFailures: 0,
      nextRetryAt: null,
      breaker: { state: 'closed', since: null, nextProbeAt: null },
      queueDepth: 3,
      deadLetters: 0,
    },
  },
  secret: { secret: SECRET, signatureScheme: 'hmac-sha256', previousSecretExpiresAt: null },
  rotate: { overlapMs: 86400000 },
  rotated: { secret: 'whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD', previousSecretExpiresAt: '2026-11-23T14:35:31.519Z' },
  newMessage: { eventType: 'invoice.paid', payload: { invoiceId: 'inv_42', amount: 4200, currency: 'EUR' }, idempotencyKey: 'invoice-42-paid' },
  accepted: { id: MESSAGE_ID, eventType: 'invoice.paid', createdAt: AT, receiverIds: [RECEIVER_ID] },
  attempt: {
    attempt: 1,
    startedAt: AT,
    durationMs: 38,
    statusCode: 503,
    error: null,
    emitterId: 'worker-1-4242',
    fence: 17,
    responseBody: '{"error":"maintenance"}',
    responseHeaders: { 'retry-after': '30' },
  },
  lock: { receiverId: RECEIVER_ID, slot: 0, emitterId: 'worker-1-4242', fence: 17, since: AT },
  newEventType: {
    name: 'invoice.paid',
    description: 'An invoice was paid in full',
    schema: {
      type: 'object',
      required: ['invoiceId', 'amount'],
      properties: { invoiceId: { type: 'string' }, amount: { type: 'integer', minimum: 0 }, currency: { type: 'string', minLength: 3, maxLength: 3 } },
    },
  },
  eventTypePatch: { deprecated: true, description: 'Use invoice.settled' },
  messageIds: [MESSAGE_ID],
  receiverId: RECEIVER_ID,
  messageId: MESSAGE_ID,
  at: AT,
} as const;

/** A catalogued event type, as the API shows it. */
export const eventType = { ...examples.newEventType, deprecated: false, createdAt: AT, updatedAt: AT } as const;

/** The 201 of a create: the stored receiver with its secret (the only answer but /secret that has it). */
export const createdReceiver = { ...examples.receiver, secret: SECRET, health: { ...examples.receiver.health, lastSuccessAt: null, queueDepth: 0 } } as const;

export const message = {
  id: MESSAGE_ID,
  eventType: 'invoice.paid',
  createdAt: AT,
  payload: examples.newMessage.payload,
  deliveries: [
    {
      receiverId: RECEIVER_ID,
      status: 'retrying',
      nextAttemptAt: '2026-11-22T14:36:01.519Z',
      attempts: [examples.attempt],
      omittedAttempts: 0,
    },
  ],
} as const;

export const deadLetterPage = {
  data: [
    {
      messageId: MESSAGE_ID,
      eventType: 'invoice.paid',
      messageCreatedAt: AT,
      diedAt: '2026-11-23T12:01:02.003Z',
      attempts: 8,
      lastAttempt: { ...examples.attempt, attempt: 8 },
    },
  ],
  next: null,
} as const;

export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 422 | 503;

const ERRORS: Record<ErrorStatus, { code: LockstepErrorCode; message: string; field?: string }> = {
  400: { code: 'LOCKSTEP_BAD_FIELD', message: 'url is not a valid absolute URL', field: 'url' },
  401: { code: 'LOCKSTEP_UNAUTHORIZED', message: UNAUTHORIZED_V1 },
  403: { code: 'LOCKSTEP_FORBIDDEN', message: "this token's scopes do not allow GET /v1/stats: it needs an admin token" },
  404: { code: 'LOCKSTEP_NOT_FOUND', message: `receiver ${RECEIVER_ID} not found` },
  409: {
    code: 'LOCKSTEP_BAD_FIELD',
    message:
      `messages[3].receiverIds names a receiver deleted just now (${RECEIVER_ID}); stored: messages 0-2, 4 (4 of 5); not stored: messages 3. ` +
      'Retry the whole batch with the same Idempotency-Key: the stored ones come back as duplicates and only the rest is stored.',
    field: 'messages[3].receiverIds',
  },
  413: { code: 'LOCKSTEP_BAD_FIELD', message: bodyTooLarge(262_144).message, field: 'body' },
  422: { code: 'LOCKSTEP_BAD_FIELD', message: `receiverIds[0] names no receiver (${RECEIVER_ID})`, field: 'receiverIds[0]' },
  503: { code: 'LOCKSTEP_REDIS_UNAVAILABLE', message: REDIS_UNAVAILABLE },
};

/** The error body a status comes with, as an example (built as the error handler builds it). */
export function errorExample(status: ErrorStatus): ErrorBody {
  const { code, message, field } = ERRORS[status];
  return errorBodyOf(new LockstepError(code, status, message, field ? { field } : {}));
}
