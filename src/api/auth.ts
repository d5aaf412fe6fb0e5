import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { actorOf, ADMIN, type Principal } from '../domain/scopes.js';
import type { Tokens } from '../domain/tokens.js';
import { LockstepError } from '../errors.js';
import { bindRequestLog } from './request-log.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who the bearer token stands for (set by `authenticate` on every /v1 route). */
    principal: Principal;
  }
}

const digest = (token: string): Buffer => createHash('sha256').update(token).digest();

export const UNAUTHORIZED_V1 =
  'missing, wrong, expired or revoked bearer token: send "Authorization: Bearer <token>" (LOCKSTEP_API_TOKEN, or a token from POST /v1/tokens)';
const UNAUTHORIZED = 'missing or wrong bearer token: send "Authorization: Bearer <LOCKSTEP_API_TOKEN>"';

/** The 401 of a missing or wrong token: /v1's (any stored token too), or /metrics' (LOCKSTEP_API_TOKEN or LOCKSTEP_METRICS_TOKEN only). */
export const unauthorized = (message = UNAUTHORIZED) => new LockstepError('LOCKSTEP_UNAUTHORIZED', 401, message);

function bearerOf(request: FastifyRequest): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
}

/** Whether the `offered` digest is one of `accepted` (compared in constant time). */
function isOneOf(accepted: Buffer[], offered: Buffer): boolean {
  return accepted.some((known) => timingSafeEqual(known, offered));
}

/** Bearer-token check for every route of the plugin it is installed in (comparison in constant time). */
export function requireBearerToken(app: FastifyInstance, tokens: string[]): void {
  const accepted = tokens.map(digest);
  app.addHook('onRequest', (request, _reply, done) => {
    const token = bearerOf(request);
    done(token !== undefined && isOneOf(accepted, digest(token)) ? undefined : unauthorized());
  });
}

/** The request acts as `principal`, and every line it logs says who that is (`by`, as operational events do). */
function signIn(request: FastifyRequest, principal: Principal): void {
  request.principal = principal;
  bindRequestLog(request, { by: actorOf(principal) });
}

/** Tokens that authenticated lately and their digests: hashing the same token on every request cost intake ~3% of its CPU. */
const REMEMBERED_TOKENS = 1000;

/**
 * Sets `request.principal` from the bearer token: the tokens of LOCKSTEP_API_TOKEN are admin;
 * any other is looked up among the stored tokens (POST /v1/tokens) with its scopes (which that
 * lookup keeps current: a remembered digest is no pass, only a hash saved).
 */
export function authenticate(app: FastifyInstance, adminTokens: string[], tokens: Tokens): void {
  const admin = adminTokens.map(digest);
  const digests = new Map<string, Buffer>();
  const passed = (token: string, offered: Buffer): void => {
    if (digests.size >= REMEMBERED_TOKENS) digests.clear();
    digests.set(token, offered);
  };
  app.decorateRequest('principal', null as unknown as Principal);
  // a callback hook, not an async one: an admin token needs no promise
  app.addHook('onRequest', (request, _reply, done) => {
    const token = bearerOf(request);
    if (token === undefined) return done(unauthorized(UNAUTHORIZED_V1));
    const offered = digests.get(token) ?? digest(token);
    if (isOneOf(admin, offered)) {
      passed(token, offered);
      signIn(request, ADMIN);
      return done();
    }
    tokens.authenticate(offered.toString('hex')).then((principal) => {
      if (!principal) return done(unauthorized(UNAUTHORIZED_V1));
      passed(token, offered);
      signIn(request, principal);
      done();
    }, done);
  });
}
