import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { LockstepError } from '../errors.js';

const digest = (token: string): Buffer => createHash('sha256').update(token).digest();

/** Bearer-token check for every route of the plugin it is installed in (comparison in constant time). */
export function requireBearerToken(app: FastifyInstance, tokens: string[]): void {
  const accepted = tokens.map(digest);
  app.addHook('onRequest', (request, _reply, done) => {
    const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
    const offered = match?.[1] ? digest(match[1]) : undefined;
    const known = offered !== undefined && accepted.some((token) => timingSafeEqual(token, offered));
    done(
      known ? undefined : new LockstepError('LOCKSTEP_UNAUTHORIZED', 401, 'missing or wrong bearer token: send "Authorization: Bearer <LOCKSTEP_API_TOKEN>"'),
    );
  });
}
