import { PATTERN_WORDS } from '../shapes/common.js';
import { closest } from './closest.js';

/** What a JSON Schema validator (Ajv, also inside fastify) reports for one failing value. */
export interface SchemaError {
  keyword?: string;
  instancePath?: string;
  message?: string;
  params?: Record<string, unknown>;
  /** With Ajv's `verbose`: the schema of the object that failed, and the object, to name what was meant. */
  parentSchema?: unknown;
  data?: unknown;
}

/**
 * A schema failure as `{field, problem}`, said the way a client can act on. The request's schema
 * (api/errors.ts) and event types' payload schemas (domain/payload-schemas.ts) both refuse through
 * it, so a client parses one form of `field` and reads one wording whichever check refused.
 */
export function schemaRefusal(error: SchemaError, base: string): { field: string; problem: string } {
  const object = pointerSegments(error.instancePath ?? '');
  const extra = error.params?.missingProperty ?? error.params?.additionalProperty;
  const field = fieldPath(base, typeof extra === 'string' ? [...object, extra] : object) || 'body';
  return { field, problem: problemOf(error) + misspelling(error, (name) => fieldPath(base, [...object, name])) };
}

/**
 * A place in a request as JavaScript reads it: `messages[1].receiverIds[0]`, `headers.x-trace`,
 * `payload.lines[0].qty`, `payload["a.b"]` (the domain rules write their own indexes the same way).
 */
export function fieldPath(base: string, segments: readonly string[]): string {
  let path = base;
  for (const segment of segments) {
    if (/^(0|[1-9][0-9]*)$/.test(segment)) path += `[${segment}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(segment)) path += path ? `.${segment}` : segment;
    else path += `[${JSON.stringify(segment)}]`;
  }
  return path;
}

/** What a value that does not match `pattern` is told: in words where common.ts has them. */
export function patternProblem(pattern: string): string {
  const words = PATTERN_WORDS[pattern];
  return words ? `must be ${words}` : `must match pattern "${pattern}"`;
}

/** Ajv's "must NOT have fewer than 1 items", said plainly. */
const SIZES: Record<string, (limit: number) => string> = {
  minItems: (limit) => `must have at least ${count(limit, 'item')}`,
  maxItems: (limit) => `must have at most ${count(limit, 'item')}`,
  minLength: (limit) => (limit === 1 ? 'must not be empty' : `must be at least ${count(limit, 'character')} long`),
  maxLength: (limit) => `must be at most ${count(limit, 'character')} long`,
  minimum: (limit) => `must be at least ${limit}`,
  maximum: (limit) => `must be at most ${limit}`,
};

const count = (n: number, noun: string) => `${n.toLocaleString('en-US')} ${noun}${n === 1 ? '' : 's'}`;

function problemOf({ keyword, message, params }: SchemaError): string {
  const size = keyword ? SIZES[keyword] : undefined;
  if (size && typeof params?.limit === 'number') return size(params.limit);
  if (keyword === 'uniqueItems' && typeof params?.i === 'number' && typeof params.j === 'number')
    return `must not repeat an item (items ${Math.min(params.i, params.j)} and ${Math.max(params.i, params.j)} are the same)`;
  if (keyword === 'additionalProperties') return 'is not a known field';
  if (keyword === 'required') return 'is required';
  if (keyword === 'enum' && Array.isArray(params?.allowedValues)) return `must be one of: ${params.allowedValues.map(String).join(', ')}`;
  if (keyword === 'pattern' && typeof params?.pattern === 'string') return patternProblem(params.pattern);
  if (keyword === 'minProperties' && params?.limit === 1) return 'must name at least one field';
  if (keyword === 'format' && params?.format === 'date-time') return 'must be an RFC 3339 time, e.g. 2026-01-31T09:30:00Z';
  return message ?? 'is invalid';
}

/**
 * A field name that is near one the schema declares, said beside the refusal: `eventType is not a
 * known field (did you mean eventTypes?)`, `payload is required, and paylaod is not a known field`.
 */
function misspelling({ keyword, params, parentSchema, data }: SchemaError, beside: (name: string) => string): string {
  const properties = (parentSchema as { properties?: unknown } | undefined)?.properties;
  const declared = properties !== null && typeof properties === 'object' ? Object.keys(properties) : [];
  if (keyword === 'additionalProperties' && typeof params?.additionalProperty === 'string') {
    const meant = closest(params.additionalProperty, declared);
    return meant ? ` (did you mean ${meant}?)` : '';
  }
  if (keyword === 'required' && typeof params?.missingProperty === 'string' && data !== null && typeof data === 'object') {
    const missing = params.missingProperty;
    const sent = Object.keys(data).find((key) => !declared.includes(key) && closest(key, [missing]) !== undefined);
    return sent === undefined ? '' : `, and ${beside(sent)} is not a known field`;
  }
  return '';
}

/** The segments of a JSON Pointer (`/lines/0/a~1b` → `lines`, `0`, `a/b`). */
function pointerSegments(pointer: string): string[] {
  return pointer
    .split('/')
    .slice(1)
    .map((segment) => segment.replaceAll('~1', '/').replaceAll('~0', '~'));
}
