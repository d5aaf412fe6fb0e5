/**
 * Lockstep's own failures: one class with a stable `code` and the HTTP status it answers with, the
 * way fastify's `createError('FST_ERR_…')` works. Thrown where the failure happens; callers (the
 * API's error handler, the CLI, the emitter's metrics) decide by `code`, never by message text.
 * The codes are part of the error body (`code`), so clients may rely on them too.
 */
export type LockstepErrorCode =
  /** A request field the client can fix (400, or 422 when well-formed but refused, 409 for a batch cut). */
  | 'LOCKSTEP_BAD_FIELD'
  | 'LOCKSTEP_NOT_FOUND'
  | 'LOCKSTEP_UNAUTHORIZED'
  /** A valid token whose scopes do not cover the route (403). */
  | 'LOCKSTEP_FORBIDDEN'
  /** A resource that exists already (409: a tenant id taken, a tenant that still has receivers). */
  | 'LOCKSTEP_CONFLICT'
  /** Redis cannot be reached right now: a write may or may not have been stored. */
  | 'LOCKSTEP_REDIS_UNAVAILABLE'
  /** Redis is out of memory (noeviction) and refuses writes. */
  | 'LOCKSTEP_REDIS_OUT_OF_MEMORY'
  /** The lock backend (Redis locks, etcd, Consul) failed. */
  | 'LOCKSTEP_LOCK_BACKEND'
  /** A start-up problem the operator can fix (the CLI prints it without a stack and exits 1). */
  | 'LOCKSTEP_START';

export class LockstepError extends Error {
  override readonly name = 'LockstepError';

  constructor(
    readonly code: LockstepErrorCode,
    readonly statusCode: number,
    message: string,
    options: { field?: string; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    if (options.field !== undefined) this.field = options.field;
  }

  /** The request field at fault, when there is one. */
  readonly field?: string;
}

export function isLockstepError(error: unknown, code?: LockstepErrorCode): error is LockstepError {
  return error instanceof LockstepError && (code === undefined || error.code === code);
}

/** `<field> <problem>`, naming the field (400 unless said otherwise). */
export const badField = (field: string, problem: string, statusCode = 400): LockstepError =>
  new LockstepError('LOCKSTEP_BAD_FIELD', statusCode, `${field} ${problem}`, { field });

export const notFound = (what: string): LockstepError => new LockstepError('LOCKSTEP_NOT_FOUND', 404, `${what} not found`);
