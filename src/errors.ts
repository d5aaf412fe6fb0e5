import type { ErrorCode } from './shapes/common.js';

/**
 * The codes (declared once, in src/shapes/common.ts, since error bodies carry them):
 * - LOCKSTEP_BAD_FIELD: a request field the client can fix (400, or 422 when well-formed but
 *   refused, 409 for a batch cut; also fastify's own 413/415 and bad JSON);
 * - LOCKSTEP_NOT_FOUND (404), LOCKSTEP_UNAUTHORIZED (401);
 * - LOCKSTEP_METHOD_NOT_ALLOWED: a route's path with a method it does not take (405, `Allow` lists those it does);
 * - LOCKSTEP_FORBIDDEN: a valid token whose scopes do not cover the route (403);
 * - LOCKSTEP_CONFLICT: a tenant id taken, a tenant that still has receivers, a receiver that kept
 *   changing under a PATCH or rotation, a resend of a message whose payload was deleted (409);
 * - LOCKSTEP_REDIS_UNAVAILABLE: Redis cannot be reached right now, a write may or may not have been
 *   stored (503); LOCKSTEP_REDIS_OUT_OF_MEMORY: Redis refuses writes at maxmemory (503);
 * - LOCKSTEP_LOCK_BACKEND: the lock service (etcd, Consul, Redis locks) failed (503);
 * - LOCKSTEP_INTERNAL: anything unforeseen (500, logged);
 * - LOCKSTEP_START (never in a body): a start-up problem the operator can fix; the CLI prints it
 *   without a stack and exits 1.
 */
export type LockstepErrorCode = ErrorCode | 'LOCKSTEP_START';

/**
 * Lockstep's own failures: one class with a stable `code` and the HTTP status it answers with, the
 * way fastify's `createError('FST_ERR_…')` works. Thrown where the failure happens; callers (the
 * API's error handler, the CLI, the emitter's metrics) decide by `code`, never by message text.
 * The codes are part of the error body (`code`), so clients may rely on them too.
 */
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

/** A start-up problem the operator can fix from its message alone (the CLI exits 1, no stack). */
export const startFailure = (message: string, cause?: unknown): LockstepError => new LockstepError('LOCKSTEP_START', 500, message, { cause });
