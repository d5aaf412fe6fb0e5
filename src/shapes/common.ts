import { Type, type Static, type TSchema, type TUnsafe } from '@sinclair/typebox';

/**
 * Building blocks of the wire shapes. This folder is pure data (TypeBox only, no Node imports): the
 * API validates and documents with it, the dashboard (src/ui, compiled for the browser) and the
 * tests read the TypeScript types derived from it with Static<>.
 */

export const ID_PATTERN = { rcv: '^rcv_[0-9a-z]{26}$', msg: '^msg_[0-9a-z]{26}$' } as const;
export const TOKEN_ID_PATTERN = '^tok_[0-9a-z]{26}$';
/** A tenant id is chosen by the caller: 1–64 characters of `[A-Za-z0-9._-]`. */
export const TENANT_ID_PATTERN = '^[A-Za-z0-9._-]{1,64}$';
/** `admin`, `publish` or `tenant:<tenant id>`. */
export const SCOPE_PATTERN = `^(admin|publish|tenant:${TENANT_ID_PATTERN.slice(1, -1)})$`;
/** A dead-letter page's cursor: the dead-lettering time in ms and the message id. */
export const DEAD_LETTER_CURSOR_PATTERN = '^[0-9]{1,15}\\.msg_[0-9a-z]{26}$';
export const EVENT_TYPE_PATTERN = '^[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*$';
export const EVENT_FILTER_PATTERN = '^(\\*|[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*(\\.\\*)?)$';
/** Event types Lockstep sends itself (domain/own-events.ts): producers may not use the prefix, and only filters naming it match. */
export const OWN_EVENT_PREFIX = 'lockstep.';
export const HEADER_NAME_PATTERN = "^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$";
export const IDEMPOTENCY_KEY_PATTERN = '^[\\x21-\\x7e]+$';
/** A page size in a query string (a string there): 1 to 100, or 1 to 500. */
export const LIMIT_PATTERN = { 100: '^([1-9][0-9]?|100)$', 500: '^([1-9][0-9]?|[1-4][0-9]{2}|500)$' } as const;

/** What a pattern asks for, in words: a refusal says this rather than the regular expression (lib/schema-refusal.ts). */
const TENANT_ID_WORDS = '1 to 64 letters, digits, ".", "_" or "-"';
export const PATTERN_WORDS: Readonly<Record<string, string>> = {
  [ID_PATTERN.rcv]: 'a receiver id: rcv_ and 26 lowercase letters or digits',
  [ID_PATTERN.msg]: 'a message id: msg_ and 26 lowercase letters or digits',
  [TOKEN_ID_PATTERN]: 'a token id: tok_ and 26 lowercase letters or digits',
  [TENANT_ID_PATTERN]: TENANT_ID_WORDS,
  [SCOPE_PATTERN]: `admin, publish or tenant:<tenant id> (a tenant id is ${TENANT_ID_WORDS})`,
  [DEAD_LETTER_CURSOR_PATTERN]: 'the "next" of the previous page, e.g. 1767173400000.msg_01m81ty179n6nkc35tt72nyn5c',
  [EVENT_TYPE_PATTERN]: 'names of letters, digits, "_" or "-" joined by dots, e.g. invoice.paid',
  [EVENT_FILTER_PATTERN]: 'an event type, a prefix ending in ".*", or "*"',
  [HEADER_NAME_PATTERN]: "a header name: 1 to 128 letters, digits or !#$%&'*+.^_`|~-",
  [IDEMPOTENCY_KEY_PATTERN]: 'printable ASCII without spaces',
  [LIMIT_PATTERN[100]]: 'a whole number from 1 to 100',
  [LIMIT_PATTERN[500]]: 'a whole number from 1 to 500',
};

/** `{type: [t, 'null']}`: the compact JSON Schema form the document has always used (not an anyOf). */
export function Nullable<T extends 'string' | 'integer'>(type: T, options: object = {}): TUnsafe<(T extends 'string' ? string : number) | null> {
  return Type.Unsafe({ ...options, type: [type, 'null'] });
}

/** `{type: 'string', enum: [...]}` (TypeBox's own unions of literals would document an anyOf of consts). */
export function StringEnum<const T extends readonly string[]>(values: T, options: object = {}): TUnsafe<T[number]> {
  return Type.Unsafe({ ...options, type: 'string', enum: [...values] });
}

/** An object of string values under free names (`additionalProperties`, as JSON Schema says it plainly). */
export function StringMap(value: object = {}, options: object = {}): TUnsafe<Record<string, string>> {
  return Type.Unsafe({ ...options, type: 'object', additionalProperties: { type: 'string', ...value } });
}

/**
 * An object of numbers under free names in the document (a new key reaches clients at once); `K`
 * says which names the server sends today, for the TypeScript type.
 */
export function NumberMap<K extends string = string>(options: object = {}): TUnsafe<Record<K, number>> {
  return Type.Unsafe({ ...options, type: 'object', additionalProperties: { type: 'number' } });
}

/** A request body that may also be `null` or absent (`type: ['object', 'null']`). */
export function OrNull<T extends TSchema>(schema: T): TUnsafe<Static<T> | null> {
  return Type.Unsafe({ ...schema, type: ['object', 'null'] });
}

/**
 * A response schema as sent: the same shape without `required`. Fastify serializes responses with
 * fast-json-stringify, which turns a missing required field into a 500; the document has never
 * promised presence either. The TypeScript type (what handlers must return and what the
 * dashboard reads) keeps the required fields.
 */
export function Response<T extends TSchema>(schema: T): T {
  return withoutRequired(schema) as T;
}

function withoutRequired(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutRequired);
  if (value === null || typeof value !== 'object') return value;
  const copy: Record<string | symbol, unknown> = { ...value }; // keeps TypeBox's symbol keys
  delete copy.required;
  for (const key of Object.keys(copy)) copy[key] = withoutRequired(copy[key]);
  return copy;
}

/**
 * The stable codes an error body carries, for clients to decide by (src/errors.ts says what each
 * means). A new code is added here, and only here.
 */
export const ERROR_CODES = [
  'LOCKSTEP_BAD_FIELD',
  'LOCKSTEP_NOT_FOUND',
  'LOCKSTEP_METHOD_NOT_ALLOWED',
  'LOCKSTEP_UNAUTHORIZED',
  'LOCKSTEP_FORBIDDEN',
  'LOCKSTEP_CONFLICT',
  'LOCKSTEP_REDIS_UNAVAILABLE',
  'LOCKSTEP_REDIS_OUT_OF_MEMORY',
  'LOCKSTEP_LOCK_BACKEND',
  'LOCKSTEP_INTERNAL',
] as const;
export const ErrorCodeSchema = StringEnum(ERROR_CODES, { description: 'stable error code: decide by it, not by the message' });
export type ErrorCode = Static<typeof ErrorCodeSchema>;

/** Every error body: `field` names the request part at fault when there is one. */
export const ErrorBodySchema = Type.Object({
  statusCode: Type.Integer(),
  code: ErrorCodeSchema,
  error: Type.Optional(Type.String()),
  message: Type.String(),
  field: Type.Optional(Type.String()),
});
export type ErrorBody = Static<typeof ErrorBodySchema>;

/** One page of a list; `next` is the cursor of the following page, null on the last. */
export const PageSchema = <T extends TSchema>(item: T) => Type.Object({ data: Type.Array(item), next: Nullable('string') });
export interface Page<T> {
  data: T[];
  next: string | null;
}
