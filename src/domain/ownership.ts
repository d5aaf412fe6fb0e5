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
  const owner = await ownerOf(store, kind, id);
  if (owner === null || owner !== principal.tenantId) throw notFound(`${kind} ${id}`);
}

async function ownerOf(store: Store, kind: Owned, id: string): Promise<string | null> {
  if (kind === 'tenant') return id;
  if (kind === 'message') return store.messageIndex.tenantOf(id);
  return (await store.receivers.tenantsOf([id])).get(id) ?? null;
}
