import { notFound } from '../errors.js';

/**
 * Who is asking, from the scopes of their token: `admin` may do everything (the tokens of
 * LOCKSTEP_API_TOKEN are admin), `publish` may post messages for any tenant, `tenant:<id>` may
 * manage that tenant's receivers and read its messages. A token holds at most one tenant scope.
 */
export interface Principal {
  admin: boolean;
  publish: boolean;
  /** The one tenant a non-admin token is confined to; undefined for admin (it sees every tenant). */
  tenantId: string | undefined;
  /** The stored token's id; undefined for the tokens of LOCKSTEP_API_TOKEN. */
  tokenId: string | undefined;
}

export const ADMIN: Principal = { admin: true, publish: true, tenantId: undefined, tokenId: undefined };

const TENANT_PREFIX = 'tenant:';

/** Who made a change, as an operational event names them: the stored token's id, or a token of LOCKSTEP_API_TOKEN. */
export function actorOf(principal: Principal): string {
  return principal.tokenId ?? 'LOCKSTEP_API_TOKEN';
}

export function tenantScope(tenantId: string): string {
  return `${TENANT_PREFIX}${tenantId}`;
}

/** The tenant ids named by `tenant:<id>` scopes. */
export function scopedTenants(scopes: readonly string[]): string[] {
  return scopes.filter((scope) => scope.startsWith(TENANT_PREFIX)).map((scope) => scope.slice(TENANT_PREFIX.length));
}

export function principalOf(scopes: readonly string[], tokenId: string | undefined): Principal {
  const admin = scopes.includes('admin');
  return { admin, publish: admin || scopes.includes('publish'), tenantId: admin ? undefined : scopedTenants(scopes)[0], tokenId };
}

/**
 * The tenant a request works on: what it asked for, within what its token allows. A tenant token
 * that names another tenant gets a 404, as if that tenant did not exist (it never learns whether it does).
 */
export function tenantFor(principal: Principal | undefined, requested: string | undefined): string | undefined {
  const own = principal?.tenantId;
  if (own === undefined || principal?.admin) return requested;
  if (requested !== undefined && requested !== own) throw notFound(`tenant ${requested}`);
  return own;
}
