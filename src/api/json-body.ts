import type { FastifyInstance } from 'fastify';

/**
 * JSON bodies as fastify parses them (prototype and constructor poisoning refused), except that an
 * empty body is no body. Many HTTP clients send `Content-Type: application/json` on every request;
 * the routes whose body is optional (a test event, a replay, a resend, a secret rotation) take such
 * a request as they take one without the header, and a route that needs a body still says so.
 */
export function emptyJsonIsNoBody(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body.toString();
    if (text === '') done(null, undefined);
    else void parse(request, text, done); // calls done; typed as maybe returning a promise
  });
}
