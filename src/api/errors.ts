import type { FastifyError, FastifyInstance } from 'fastify';

/** An error the client can fix, with the field it concerns. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export const badField = (field: string, problem: string, statusCode = 400): HttpError => new HttpError(statusCode, `${field} ${problem}`, field);
export const notFound = (what: string): HttpError => new HttpError(404, `${what} not found`);

export const REASONS: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 404: 'Not Found', 409: 'Conflict', 413: 'Payload Too Large', 415: 'Unsupported Media Type', 422: 'Unprocessable Entity', 503: 'Service Unavailable' };

/**
 * What a 503 says when Redis is cut: a write may have reached Redis before its answer was lost, so
 * the only honest statement is that it may or may not be stored, and the safe retry is an
 * idempotent one.
 */
export const REDIS_UNAVAILABLE = 'Redis is unavailable right now. A request that writes may or may not have been stored: retry shortly, '
  + 'and for a message retry with the same Idempotency-Key so that it cannot be stored twice.';

export const REDIS_OUT_OF_MEMORY = 'Redis is out of memory (maxmemory reached, policy noeviction) and refuses writes: this request was not completed. '
  + 'Retry once the operator has freed memory or raised maxmemory; for a message, retry with the same Idempotency-Key.';

/** Redis refusing writes because maxmemory is reached (directly, or as the reason a MULTI was discarded). */
function isRedisOutOfMemory(error: Error): boolean {
  const previous = (error as { previousErrors?: unknown }).previousErrors;
  return /^OOM |\bOOM command not allowed/.test(error.message) || (Array.isArray(previous) && previous.some((e) => e instanceof Error && isRedisOutOfMemory(e)));
}

/** ioredis's ways of saying Redis is unreachable right now. */
function isRedisUnavailable(error: Error): boolean {
  return error.name === 'MaxRetriesPerRequestError' || /enableOfflineQueue|Connection is closed|ECONNREFUSED|ECONNRESET|max retries per request|Stream isn't writeable|LOADING/i.test(error.message);
}

/**
 * Every error leaves as JSON `{statusCode, error, message, field?}`. Validation problems name the
 * field; an unreachable Redis is a 503 with Retry-After (never a hang, never a 500).
 */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | HttpError | Error, request, reply) => {
    if ('validation' in error && error.validation) {
      const [first] = error.validation;
      const field = fieldOf(error.validationContext ?? 'body', first?.instancePath ?? '', first?.params as Record<string, unknown> | undefined);
      return send(400, first?.keyword === 'additionalProperties' ? `${field} is not a known field` : `${field} ${first?.message ?? 'is invalid'}`, field);
    }
    const statusCode = (error as { statusCode?: number }).statusCode;
    if (statusCode && statusCode >= 400 && statusCode < 500) return send(statusCode, error.message, (error as HttpError).field);
    if (isRedisUnavailable(error)) {
      void reply.header('retry-after', '1');
      return send(503, REDIS_UNAVAILABLE);
    }
    if (isRedisOutOfMemory(error)) {
      request.log.error({ err: error }, 'Redis is out of memory and refuses writes: raise maxmemory or free memory');
      void reply.header('retry-after', '5');
      return send(503, REDIS_OUT_OF_MEMORY);
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
