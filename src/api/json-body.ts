import type { FastifyInstance } from 'fastify';
import { badField } from '../errors.js';

/**
 * Request bodies are JSON only, as fastify parses it (prototype and constructor poisoning refused),
 * except that an empty body is no body. Many HTTP clients send `Content-Type: application/json` on
 * every request; the routes whose body is optional (a test event, a replay, a resend, a secret
 * rotation) take such a request as they take one without the header, and a route that needs a body
 * still says so. Malformed JSON is refused saying where it breaks; a text/plain body (fastify's
 * other default) is refused as any other non-JSON one, with 415 naming the Content-Type to send.
 */
export function jsonBodies(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body.toString();
    if (text === '') return done(null, undefined);
    // calls done; typed as maybe returning a promise
    void parse(request, text, (error, value) => (isInvalidJson(error) ? done(malformed(text)) : done(error, value)));
  });
}

const isInvalidJson = (error: Error | null): boolean => (error as { code?: string } | null)?.code === 'FST_ERR_CTP_INVALID_JSON_BODY';

/**
 * Only reached for a body the parser refused: JSON.parse's own words say where it breaks (position,
 * what was expected); JSON that parses was refused for a key that could poison prototypes.
 */
function malformed(text: string): Error {
  try {
    JSON.parse(text);
    return badField('body', 'must not hold a "__proto__" key, nor a "constructor" key with a "prototype"');
  } catch (error) {
    return badField('body', `is not valid JSON: ${(error as Error).message}`);
  }
}
