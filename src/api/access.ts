import type { FastifyInstance, FastifyRequest } from 'fastify';
import { checkOwnership, type Owned } from '../domain/ownership.js';
import type { Principal } from '../domain/scopes.js';
import { LockstepError } from '../errors.js';
import type { Store } from '../store/index.js';

/** What a non-admin scope may do on a route, and which kind of object its `:id` names. */
export interface RouteAccess {
  publish?: true;
  tenant?: true;
  owner?: Owned;
}

/**
 * Every /v1 route a scope other than `admin` may use. A route not listed here is for admin tokens
 * only (403 otherwise): /v1/tokens, the tenants list and changes, /v1/locks, /v1/stats, and any
 * route added later until it is listed. The matrix test (test/api/scopes.test.ts) reads this table.
 */
export const ROUTE_ACCESS: Record<string, RouteAccess> = {
  'POST /v1/messages': { publish: true },
  'POST /v1/messages/batch': { publish: true },
  'GET /v1/messages': { tenant: true },
  'GET /v1/messages/:id': { tenant: true, owner: 'message' },
  'POST /v1/messages/:id/resend': { tenant: true, owner: 'message' },
  'DELETE /v1/messages/:id/payload': { tenant: true, owner: 'message' },
  'POST /v1/receivers': { tenant: true },
  'GET /v1/receivers': { tenant: true },
  'GET /v1/receivers/:id': { tenant: true, owner: 'receiver' },
  'PATCH /v1/receivers/:id': { tenant: true, owner: 'receiver' },
  'DELETE /v1/receivers/:id': { tenant: true, owner: 'receiver' },
  'GET /v1/receivers/:id/secret': { tenant: true, owner: 'receiver' },
  'POST /v1/receivers/:id/secret/rotate': { tenant: true, owner: 'receiver' },
  'GET /v1/receivers/:id/dead-letters': { tenant: true, owner: 'receiver' },
  'POST /v1/receivers/:id/replay': { tenant: true, owner: 'receiver' },
  'POST /v1/receivers/:id/test': { tenant: true, owner: 'receiver' },
  'GET /v1/tenants/:id': { tenant: true, owner: 'tenant' },
};

/** The scopes that would cover `route`, said so a client knows which token to ask for. */
function scopesFor(route: string): string {
  const access = ROUTE_ACCESS[route];
  const others = [access?.publish && 'publish', access?.tenant && 'tenant:<id>'].filter(Boolean);
  return others.length ? `a token with scope admin or ${others.join(' or ')}` : 'an admin token';
}

const forbidden = (route: string) => new LockstepError('LOCKSTEP_FORBIDDEN', 403, `this token's scopes do not allow ${route}: it needs ${scopesFor(route)}`);

function routeOf(request: FastifyRequest): string {
  const method = request.method === 'HEAD' ? 'GET' : request.method;
  return `${method} ${request.routeOptions.url ?? request.url}`;
}

export function mayUse(principal: Principal, access: RouteAccess | undefined): boolean {
  if (principal.admin) return true;
  return Boolean((access?.publish && principal.publish) || (access?.tenant && principal.tenantId !== undefined));
}

/**
 * Authorization for the /v1 plugin, after `authenticate`: a scope that does not cover the route gets
 * 403 before anything else is read; a tenant token naming an object of another tenant gets the 404 an
 * unknown id gets, once the id has been validated (so a malformed id is a 400 for everyone).
 */
export function authorize(app: FastifyInstance, store: Store): void {
  app.addHook('onRequest', (request, _reply, done) => {
    const route = routeOf(request);
    done(mayUse(request.principal, ROUTE_ACCESS[route]) ? undefined : forbidden(route));
  });
  // a callback hook: only a route naming an owned object waits for a read
  app.addHook('preHandler', (request, _reply, done) => {
    const { id } = (request.params ?? {}) as { id?: string };
    // the id first: `routeOptions` builds a new object on every read
    const owner = id === undefined ? undefined : ROUTE_ACCESS[routeOf(request)]?.owner;
    if (!owner || id === undefined) return done();
    checkOwnership(store, request.principal, owner, id).then(() => done(), done);
  });
}
