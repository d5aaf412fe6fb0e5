import { notFound } from '../errors.js';
import type { Store } from '../store/index.js';
import type { Principal } from './scopes.js';

/** The kinds of id a route can carry that belong to a tenant. */
export type Owned = 'receiver' | 'message' | 'tenant';

/**
 * A tenant token reaches only its own tenant's objects: anything else answers exactly as an id that
 * does not exist (404, same message), so it never learns whether another tenant's object exists.
 * Tenants never change hands (a receiver's and a message's tenant are set once), so checking before
 * the operation is as good as checking inside it.
 */
export async function checkOwnership(store: Store, principal: Principal, kind: Owned, id: string): Promise<void> {
  if (principal.admin) return;
  const owned = kind === 'message' ? await ownsMessage(store, principal.tenantId, id) : (await ownerOf(store, kind, id)) === principal.tenantId;
  if (!owned) throw notFound(`${kind} ${id}`);
}

async function ownerOf(store: Store, kind: Exclude<Owned, 'message'>, id: string): Promise<string | null> {
  if (kind === 'tenant') return id;
  return (await store.receivers.tenantsOf([id])).get(id) ?? null;
}

/**
 * A message belongs to the tenant it was sent for, as that tenant is now: a tenant deleted and
 * created again under the same id (perhaps for another customer) never reaches the messages its
 * namesake had within their retention. (Receivers cannot outlive their tenant: its delete refuses
 * or cascades.)
 */
async function ownsMessage(store: Store, tenantId: string | undefined, messageId: string): Promise<boolean> {
  if (tenantId === undefined) return false;
  const [owner, tenant] = await Promise.all([store.messageIndex.ownerOf(messageId), store.tenants.get(tenantId)]);
  return owner !== null && tenant !== null && owner.tenantId === tenantId && owner.createdAt >= tenant.createdAt;
}
