import type { FastifyError, FastifyInstance } from 'fastify';
import { redisFailure } from '../dependency-errors.js';
import { isLockstepError, type LockstepError } from '../errors.js';
import type { ErrorBody } from '../shapes/common.js';

export { REDIS_OUT_OF_MEMORY, REDIS_UNAVAILABLE } from '../dependency-errors.js';

export const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  503: 'Service Unavailable',
};

/** How long a client should wait before retrying a 503, by what caused it. */
const RETRY_AFTER_S: Partial<Record<LockstepError['code'], string>> = { LOCKSTEP_REDIS_UNAVAILABLE: '1', LOCKSTEP_REDIS_OUT_OF_MEMORY: '5' };

/** The body a Lockstep error leaves as; documented error examples use it too, so they read exactly as sent. */
export function errorBodyOf(error: LockstepError): ErrorBody {
  return { statusCode: error.statusCode, error: REASONS[error.statusCode] ?? 'Error', message: error.message, ...(error.field ? { field: error.field } : {}) };
}

/**
 * Every error leaves as JSON `{statusCode, error, message, field?}`. Validation problems name the
 * field; an unreachable Redis is a 503 with Retry-After (never a hang, never a 500).
 */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | Error, request, reply) => {
    if ('validation' in error && error.validation) {
      const [first] = error.validation;
      const field = fieldOf(error.validationContext ?? 'body', first?.instancePath ?? '', first?.params);
      return send(400, first?.keyword === 'additionalProperties' ? `${field} is not a known field` : `${field} ${first?.message ?? 'is invalid'}`, field);
    }
    if (isLockstepError(error) && error.statusCode < 500) return send(error.statusCode, error.message, error.field);
    // fastify's own client errors (FST_ERR_CTP_*: body too large, bad JSON, unsupported media type)
    const statusCode = (error as { statusCode?: number }).statusCode;
    if (statusCode && statusCode >= 400 && statusCode < 500) return send(statusCode, error.message);
    const redis = redisFailure(error);
    if (redis) {
      if (redis.code === 'LOCKSTEP_REDIS_OUT_OF_MEMORY')
        request.log.error({ err: error }, 'Redis is out of memory and refuses writes: raise maxmemory or free memory');
      void reply.header('retry-after', RETRY_AFTER_S[redis.code] ?? '1');
      return send(503, redis.message);
    }
    request.log.error({ err: error }, 'unexpected error');
    return send(500, 'internal error; see the server log');

    function send(code: number, message: string, field?: string) {
      return reply.status(code).send({ statusCode: code, error: REASONS[code] ?? 'Error', message, ...(field ? { field } : {}) });
    }
  });
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({ statusCode: 404, error: 'Not Found', message: `no route ${request.method} ${request.url.split('?')[0]}; see /docs` }),
  );
}

/** `body/headers/x-a` → `headers.x-a`; a missing or unknown property is named too. */
function fieldOf(part: string, instancePath: string, params: Record<string, unknown> | undefined): string {
  const path = instancePath.split('/').filter(Boolean);
  const extra = params?.missingProperty ?? params?.additionalProperty;
  if (typeof extra === 'string') path.push(extra);
  if (path.length === 0) return part;
  return part === 'body' ? path.join('.') : `${part}.${path.join('.')}`;
}
