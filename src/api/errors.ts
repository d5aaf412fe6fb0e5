import type { FastifyError, FastifyInstance } from 'fastify';
import { badField, isLockstepError, LockstepError } from '../errors.js';
import { schemaRefusal } from '../lib/schema-refusal.js';
import { routeMisses } from './route-miss.js';
import type { ErrorBody } from '../shapes/common.js';

export { REDIS_UNAVAILABLE } from '../dependency-errors.js';

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  503: 'Service Unavailable',
};

/** How long a client should wait before retrying a 503, by what caused it. */
const RETRY_AFTER_S: Partial<Record<LockstepError['code'], string>> = {
  LOCKSTEP_REDIS_UNAVAILABLE: '1',
  LOCKSTEP_REDIS_OUT_OF_MEMORY: '5',
  LOCKSTEP_LOCK_BACKEND: '1',
};

/** The request part fastify's own client errors (FST_ERR_*) are about; other FST_ERR_CTP_* are about the body. */
const FASTIFY_FIELDS: Record<string, string> = {
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'headers.content-length',
  FST_ERR_BAD_URL: 'url',
};

/** The body a Lockstep error leaves as; documented error examples use it too, so they read exactly as sent. */
export function errorBodyOf(error: LockstepError): ErrorBody {
  return {
    statusCode: error.statusCode,
    // a start-up failure never reaches a request: should one, it is an internal error to the client
    code: error.code === 'LOCKSTEP_START' ? 'LOCKSTEP_INTERNAL' : error.code,
    error: REASONS[error.statusCode] ?? 'Error',
    message: error.message,
    ...(error.field ? { field: error.field } : {}),
  };
}

/**
 * Every error leaves as JSON `{statusCode, code, error, message, field?}`, decided by `code`.
 * Validation problems name the field; an unreachable Redis or lock service is a 503 with
 * Retry-After (never a hang, never a 500).
 */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | Error, request, reply) => {
    const failure = asLockstepError(error, request.routeOptions.bodyLimit);
    if (failure.code === 'LOCKSTEP_INTERNAL') request.log.error({ err: error }, 'unexpected error');
    if (failure.code === 'LOCKSTEP_REDIS_OUT_OF_MEMORY')
      request.log.error({ err: error }, 'Redis is out of memory and refuses writes: raise maxmemory or free memory');
    if (failure.code === 'LOCKSTEP_LOCK_BACKEND') request.log.warn({ err: error }, 'the lock service failed');
    const retryAfter = RETRY_AFTER_S[failure.code];
    if (retryAfter) void reply.header('retry-after', retryAfter);
    // RFC 6750: a 401 says which scheme would do
    if (failure.code === 'LOCKSTEP_UNAUTHORIZED') void reply.header('www-authenticate', 'Bearer realm="lockstep"');
    return reply.status(failure.statusCode).send(errorBodyOf(failure));
  });
  const missed = routeMisses(app);
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    const miss = missed(request.method, path);
    if ('allow' in miss) {
      const methods = miss.allow.join(', ');
      const error = new LockstepError('LOCKSTEP_METHOD_NOT_ALLOWED', 405, `${path} does not take ${request.method}, only ${methods}; see /docs`);
      return reply.status(405).header('allow', methods).send(errorBodyOf(error));
    }
    const near = miss.near ? ` (did you mean ${miss.near}?)` : '';
    return reply.status(404).send(errorBodyOf(new LockstepError('LOCKSTEP_NOT_FOUND', 404, `no route ${request.method} ${path}${near}; see /docs`)));
  });
}

/** fastify's own text says only "Request body is too large": say the limit, and who sets it. */
export const bodyTooLarge = (limit: number) =>
  badField('body', `is larger than this route's limit of ${limit} bytes (the server's LOCKSTEP_BODY_LIMIT_BYTES sets it)`, 413);

/** What reached the handler, as Lockstep's own error: its validation failures, ours, fastify's own 4xx, or an internal error. */
function asLockstepError(error: FastifyError | Error, bodyLimit: number): LockstepError {
  if ('validation' in error && error.validation) {
    const part = error.validationContext ?? 'body';
    const { field, problem } = schemaRefusal(error.validation[0] ?? {}, part === 'body' ? '' : part);
    return badField(field, problem);
  }
  if (isLockstepError(error)) return error;
  // fastify's own client errors (FST_ERR_CTP_*: body too large, bad JSON, unsupported media type)
  const { statusCode, code } = error as Partial<FastifyError>;
  if (statusCode && statusCode >= 400 && statusCode < 500) {
    if (statusCode === 404) return new LockstepError('LOCKSTEP_NOT_FOUND', 404, error.message);
    if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') return bodyTooLarge(bodyLimit);
    // fastify's own text says only "Unsupported Media Type"
    if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
      return badField('headers.content-type', 'is not accepted: send the body as JSON with Content-Type: application/json', 415);
    const field = (code && FASTIFY_FIELDS[code]) ?? (code?.startsWith('FST_ERR_CTP_') ? 'body' : undefined);
    return new LockstepError('LOCKSTEP_BAD_FIELD', statusCode, error.message, field ? { field } : {});
  }
  return new LockstepError('LOCKSTEP_INTERNAL', 500, 'internal error; see the server log', { cause: error });
}
