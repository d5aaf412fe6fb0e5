import { Type, type Static } from '@sinclair/typebox';
import {
  EVENT_FILTER_PATTERN,
  HEADER_NAME_PATTERN,
  ID_PATTERN,
  LIMIT_PATTERN,
  TENANT_ID_PATTERN,
  Nullable,
  OrNull,
  PageSchema,
  Response,
  StringEnum,
  StringMap,
} from './common.js';
import { AttemptSchema } from './messages.js';
import { PREVIOUS_SECRET_EXPIRES_AT, SIGNATURE_SCHEMES } from './signing.js';

/** Shown instead of a credential header's value. Not a valid header value, so it can never be a real one. */
export const MASK = '••••••••';

const receiverFields = {
  url: Type.String({ minLength: 1, maxLength: 2048, description: 'http or https URL the webhooks are POSTed to', examples: ['https://example.com/hook'] }),
  eventTypes: Type.Array(Type.String({ maxLength: 256, pattern: EVENT_FILTER_PATTERN }), {
    maxItems: 256,
    uniqueItems: true,
    description:
      "event types to receive; empty = all; `a.*` matches `a.b` and `a.b.c`. Lockstep's operational events (`lockstep.receiver.failing`, `lockstep.delivery.dead`, `lockstep.receiver.disabled`, `lockstep.receiver.recovered`) come only when named, e.g. `lockstep.*`, never through `*` or an empty list, and only to receivers without a tenant",
    examples: [['invoice.*']],
  }),
  secret: Type.String({
    maxLength: 128,
    description:
      'signing key: `whsec_<base64>` (hmac-sha256) or an ed25519 private key `whsk_<base64>`; generated when absent. Answers show what a receiver verifies with: the `whsec_`, or the public key `whpk_…`',
  }),
  signatureScheme: StringEnum(SIGNATURE_SCHEMES, {
    description:
      '`hmac-sha256` (default; `v1,` signatures) or `ed25519` (`v1a,` signatures a receiver checks with the public key `whpk_…` of GET /v1/receivers/{id}/secret). Changing it without a `secret` generates a new key.',
  }),
  description: Type.String({ maxLength: 1024 }),
  headers: StringMap(
    { maxLength: 1024 },
    {
      maxProperties: 32,
      propertyNames: { pattern: HEADER_NAME_PATTERN },
      description:
        'extra headers sent with every request. Values may not hold control characters (CR, LF, NUL…) or characters above U+00FF (422). ' +
        `In responses, the values of credential-looking headers (authorization, cookie, names holding token, key or secret) are shown as "${MASK}"; ` +
        'a PATCH that sends that mask back keeps the stored value.',
      examples: [{ 'x-tenant': 'acme' }],
    },
  ),
  timeoutMs: Type.Integer({ minimum: 100, maximum: 120000, description: 'request timeout for this receiver' }),
  enabled: Type.Boolean(),
  ordering: StringEnum(['unordered', 'strict'], {
    description:
      '`unordered` (default): a failed delivery waits for its own retry while the others go on. `strict`: nothing is sent while an earlier delivery waits for its retry (completion in acceptance order).',
  }),
  maxInFlight: Type.Integer({
    minimum: 1,
    maximum: 256,
    description:
      'requests in flight to this receiver at once, across every emitter (default 1: one at a time). Above 1, first attempts start in acceptance order and may complete in any order; `strict` receivers must keep 1 (422).',
    examples: [4],
  }),
  rateLimitPerSecond: Type.Number({
    minimum: 0.01,
    maximum: 10000,
    description:
      'requests started per second, across every emitter: never more than `rateLimitBurst + rateLimitPerSecond × t` in any window of t seconds. Absent: no limit; `null` in a PATCH removes it.',
    examples: [20],
  }),
  rateLimitBurst: Type.Integer({
    minimum: 1,
    maximum: 100000,
    description: 'requests that may start at once after an idle spell, with `rateLimitPerSecond` (default 1)',
    examples: [5],
  }),
  retrySchedule: Type.Array(Type.Number({ minimum: 0, maximum: 604800 }), {
    minItems: 1,
    maxItems: 50,
    description:
      'seconds between attempts, used instead of LOCKSTEP_RETRY_SCHEDULE; its length is the number of retries. Absent: the default; `null` in a PATCH goes back to it.',
    examples: [[5, 60, 600]],
  }),
};

/** Settings a receiver may go without: absent means the default (no rate limit, the default schedule). */
const OPTIONAL_SETTINGS = ['rateLimitPerSecond', 'retrySchedule'] as const;

export const ReceiverSettingsSchema = Type.Object({
  ...Type.Omit(Type.Object(receiverFields), OPTIONAL_SETTINGS).properties,
  rateLimitPerSecond: Type.Optional(receiverFields.rateLimitPerSecond),
  retrySchedule: Type.Optional(receiverFields.retrySchedule),
});
/** Every setting of a receiver, as stored. */
export type ReceiverSettings = Static<typeof ReceiverSettingsSchema>;
export type ReceiverOrdering = ReceiverSettings['ordering'];

/** The tenant a receiver belongs to: set at creation, never changed; absent = no tenant. */
const tenantIdField = Type.String({
  pattern: TENANT_ID_PATTERN,
  description: "the tenant it belongs to (set at creation, immutable): it gets only that tenant's messages. Absent: only messages without a tenant",
  examples: ['acme'],
});

/** POST /v1/receivers: only `url` is required. */
export const CreateReceiverSchema = Type.Object(
  { ...Type.Partial(ReceiverSettingsSchema).properties, url: receiverFields.url, tenantId: Type.Optional(tenantIdField) },
  { additionalProperties: false },
);
export type CreateReceiver = Static<typeof CreateReceiverSchema>;

/** PATCH /v1/receivers/:id: any field, at least one; `null` takes an optional setting away. */
export const PatchReceiverSchema = Type.Object(
  {
    ...Type.Partial(ReceiverSettingsSchema).properties,
    rateLimitPerSecond: Type.Optional(Type.Union([receiverFields.rateLimitPerSecond, Type.Null()])),
    retrySchedule: Type.Optional(Type.Union([receiverFields.retrySchedule, Type.Null()])),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type PatchReceiver = Static<typeof PatchReceiverSchema>;

export const ReceiverHealthSchema = Type.Object({
  lastSuccessAt: Nullable('string'),
  lastFailureAt: Nullable('string'),
  consecutiveFailures: Type.Integer(),
  nextRetryAt: Nullable('string', {
    description: 'when a failed delivery is next tried: the earliest retry, or the end of a hold (breaker, 429/503) if later; null when none waits',
  }),
  breaker: Type.Object(
    {
      state: StringEnum(['closed', 'open']),
      since: Nullable('string'),
      nextProbeAt: Nullable('string'),
    },
    {
      description:
        'the circuit breaker: `open` after LOCKSTEP_BREAKER_FAILURES consecutive failures or a 429/503; one probe per retry step until a success closes it',
    },
  ),
  queueDepth: Type.Integer({ description: 'deliveries not finished yet' }),
  deadLetters: Type.Integer({ description: 'deliveries that used up their retries (replay them)' }),
});
export type ReceiverHealth = Static<typeof ReceiverHealthSchema>;

const { secret: secretField, ...shownFields } = ReceiverSettingsSchema.properties;

/** A receiver as list, get and patch show it: no secret, credential header values masked. */
export const PublicReceiverSchema = Type.Object({
  id: Type.String(),
  tenantId: Type.Optional(Type.String()),
  ...shownFields,
  createdAt: Type.String(),
  updatedAt: Type.String(),
  disabledReason: Type.Optional(Type.String()),
  previousSecretExpiresAt: Type.Optional(Type.String(PREVIOUS_SECRET_EXPIRES_AT)),
  health: ReceiverHealthSchema,
});
export type PublicReceiver = Static<typeof PublicReceiverSchema>;
export const PublicReceiverResponse = Response(PublicReceiverSchema);

/** The 201 of a create: the only receiver answer that carries the secret. */
export const CreatedReceiverResponse = Response(
  Type.Object({
    ...PublicReceiverSchema.properties,
    secret: Type.String({
      ...secretField,
      description:
        'what the receiver verifies with (the `whsec_` secret, or the ed25519 public key `whpk_…`): shown here and by GET /v1/receivers/{id}/secret only',
    }),
  }),
);

export type CreatedReceiver = Static<typeof CreatedReceiverResponse>;

export { ReceiverSecretSchema } from './signing.js';

export const ReceiverPageResponse = Response(PageSchema(PublicReceiverSchema));

export const DeadLetterSchema = Type.Object({
  messageId: Type.String(),
  eventType: Type.String(),
  messageCreatedAt: Type.String(),
  diedAt: Type.String(),
  attempts: Type.Integer(),
  lastAttempt: Type.Union([AttemptSchema, Type.Null()]),
});
/** A delivery that used up its retries, as an operator deciding whether to replay it sees it. */
export type DeadLetter = Static<typeof DeadLetterSchema>;
export const DeadLetterPageResponse = Response(PageSchema(DeadLetterSchema));

/** GET /v1/receivers: a page, of one tenant's receivers when `tenantId` is given. */
export const ReceiverListQuerySchema = (cursorPattern: string) =>
  Type.Object(
    {
      ...ListQuerySchema(cursorPattern).properties,
      tenantId: Type.Optional(Type.String({ pattern: TENANT_ID_PATTERN, description: "only this tenant's receivers" })),
    },
    { additionalProperties: false },
  );

export const ListQuerySchema = (cursorPattern: string) =>
  Type.Object(
    {
      limit: Type.Optional(Type.String({ pattern: LIMIT_PATTERN[500], description: '1 to 500 (default 50)' })),
      cursor: Type.Optional(Type.String({ pattern: cursorPattern, description: '`next` of the previous page' })),
    },
    { additionalProperties: false },
  );

export const ReplayBodySchema = OrNull(
  Type.Object(
    {
      status: Type.Optional(StringEnum(['dead'])),
      since: Type.Optional(Type.String({ format: 'date-time' })),
      messageIds: Type.Optional(Type.Array(Type.String({ pattern: ID_PATTERN.msg }), { minItems: 1, maxItems: 1000, uniqueItems: true })),
    },
    { additionalProperties: false },
  ),
);
export type ReplayBody = Static<typeof ReplayBodySchema>;

export const ReplayResultResponse = Response(Type.Object({ count: Type.Integer({ description: 'deliveries re-queued' }) }));
