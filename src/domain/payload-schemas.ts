import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { badField, LockstepError } from '../errors.js';
import { schemaRefusal } from '../lib/schema-refusal.js';
import type { StoredEventType } from '../store/index.js';

/**
 * The payload schemas of the event-type catalog, compiled with Ajv once per stored version of a type
 * and kept (each API process compiles a version the first time it meets it; a PATCH anywhere gives
 * the type a new version, so no process keeps checking against an old schema). JSON Schema
 * draft-07; `format` is an annotation, not checked; unknown keywords are refused when a schema is
 * stored, so a misspelt `requierd` does not silently check nothing. `$async` is refused too: Ajv's
 * validate() would answer a Promise, which intake would take for a pass.
 */

/** Versions kept compiled; beyond this the oldest compiled is dropped (and compiled again if met). */
const MAX_COMPILED = 1000;

export class PayloadSchemas {
  private readonly ajv = new Ajv({
    strictSchema: true,
    strictTypes: false,
    strictTuples: false,
    strictRequired: false,
    validateFormats: false,
    allErrors: false,
    verbose: true, // a refusal can name the field meant (lib/schema-refusal.ts)
  });
  private readonly compiled = new Map<string, ValidateFunction>();

  /** A schema as stored: one Ajv compiles (400 naming `schema` otherwise). */
  check(schema: Record<string, unknown>): void {
    if (hasAsync(schema)) throw badField('schema', 'must not use `$async`: payloads are checked synchronously at intake');
    const compilable = stripId(schema);
    try {
      this.ajv.compile(compilable);
      this.ajv.removeSchema(compilable); // only checked: Ajv would keep it otherwise
    } catch (error) {
      throw badField('schema', `is not a valid JSON Schema (draft-07): ${(error as Error).message}`);
    }
  }

  /** Refuses (422) a payload the type's schema does not accept, naming the JSON path under `field`. */
  validate(type: StoredEventType, payload: unknown, field: string): void {
    if (!type.schema) return;
    const validate = this.validator(type, type.schema);
    if (validate(payload)) return;
    const [error] = validate.errors ?? [];
    throw error ? refusal(error, field) : badField(field, 'does not match its event type’s schema', 422);
  }

  private validator(type: StoredEventType, schema: Record<string, unknown>): ValidateFunction {
    const key = `${type.name}@${type.version}`;
    let validate = this.compiled.get(key);
    if (!validate) {
      validate = this.compile(type.name, schema);
      const [oldestKey, oldest] = this.compiled.size >= MAX_COMPILED ? (this.compiled.entries().next().value ?? []) : [];
      if (oldestKey !== undefined && oldest) {
        this.compiled.delete(oldestKey);
        this.ajv.removeSchema(oldest.schema);
      }
      this.compiled.set(key, validate);
    }
    return validate;
  }

  /** A stored schema that no longer compiles (stored before a rule existed): a coded 500 naming the type, not a crash. */
  private compile(name: string, schema: Record<string, unknown>): ValidateFunction {
    const broken = (problem: string) =>
      new LockstepError('LOCKSTEP_INTERNAL', 500, `the stored schema of event type ${name} ${problem}; replace it with PATCH /v1/event-types/${name}`);
    if (hasAsync(schema)) throw broken('uses `$async`');
    try {
      return this.ajv.compile(stripId(schema));
    } catch (error) {
      throw broken(`does not compile: ${(error as Error).message}`);
    }
  }
}

/** `payload.lines[0].qty must be integer`: the failing value's path under the request field. */
function refusal(error: ErrorObject, field: string): Error {
  const { field: path, problem } = schemaRefusal(error, field);
  return badField(path, problem, 422);
}

/** Ajv registers a schema's `$id` globally: two types (or two versions) with one `$id` would clash. */
function stripId(schema: Record<string, unknown>): Record<string, unknown> {
  const { $id: _id, ...rest } = schema;
  return rest;
}

/** Is `$async` anywhere in the schema (subschemas, definitions)? */
function hasAsync(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(hasAsync);
  if (value === null || typeof value !== 'object') return false;
  return Object.entries(value).some(([key, inner]) => key === '$async' || hasAsync(inner));
}
