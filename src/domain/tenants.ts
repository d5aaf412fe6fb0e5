import { badField, LockstepError, notFound } from '../errors.js';
import type { Logger } from '../logger.js';
import type { CreateTenant, PatchTenant, PortalLink, Tenant } from '../shapes/tenants.js';
import type { Page, Store } from '../store/index.js';
import type { DomainLog } from './log.js';
import type { Receivers } from './receivers.js';
import { ADMIN, tenantScope, type Principal } from './scopes.js';
import type { Tokens } from './tokens.js';

export interface TenantsOptions {
  store: Store;
  receivers: Receivers;
  tokens: Tokens;
  log: Logger;
}

/** A portal link works this long unless asked otherwise. */
export const DEFAULT_PORTAL_S = 3600;
/** A cascade that keeps finding new receivers (created while it deletes) gives up after this many rounds. */
const CASCADE_ROUNDS = 5;

/** A tenant id that names no tenant, in the field that gave it. */
export const unknownTenant = (field: string, tenantId: string) =>
  badField(field, `names no tenant (${tenantId}): create the tenant first (POST /v1/tenants)`, 422);
export const tenantTaken = (id: string) => new LockstepError('LOCKSTEP_CONFLICT', 409, `tenant ${id} exists already`, { field: 'id' });
export const tenantHasReceivers = (id: string, count: number) =>
  new LockstepError(
    'LOCKSTEP_CONFLICT',
    409,
    `tenant ${id} still has ${count === 1 ? '1 receiver: delete it' : `${count} receivers: delete them`} first, or DELETE with ?cascade=true`,
  );

/** The rules of tenants: ids chosen by the caller and never reused while taken, no tenant deleted with receivers left behind. */
export class Tenants {
  constructor(private readonly options: TenantsOptions) {}

  async create(input: CreateTenant, log: DomainLog = this.options.log): Promise<Tenant> {
    const now = new Date().toISOString();
    const tenant: Tenant = { id: input.id, name: input.name ?? input.id, metadata: input.metadata ?? {}, createdAt: now, updatedAt: now };
    if (!(await this.options.store.tenants.create(tenant))) throw tenantTaken(input.id);
    log.info({ tenantId: tenant.id }, 'tenant created');
    return tenant;
  }

  list(limit: number, cursor: string | undefined): Promise<Page<Tenant>> {
    return this.options.store.tenants.list(limit, cursor);
  }

  async get(id: string): Promise<Tenant> {
    return (await this.options.store.tenants.get(id)) ?? Promise.reject(notFound(`tenant ${id}`));
  }

  async update(id: string, patch: PatchTenant, log: DomainLog = this.options.log): Promise<Tenant> {
    const tenant = { ...(await this.get(id)), ...patch, updatedAt: new Date().toISOString() };
    if (!(await this.options.store.tenants.update(tenant))) throw notFound(`tenant ${id}`);
    log.info({ tenantId: id, fields: Object.keys(patch) }, 'tenant updated');
    return tenant;
  }

  /**
   * Deletes a tenant. With receivers left: 409, unless `cascade`, which deletes each of them the way
   * DELETE /v1/receivers/:id does (under its lock, its queue dropped), then the tenant.
   */
  async delete(id: string, cascade: boolean, log: DomainLog = this.options.log, principal: Principal = ADMIN): Promise<void> {
    const { store, receivers } = this.options;
    for (let round = 0; round < CASCADE_ROUNDS; round++) {
      const result = await store.tenants.delete(id);
      if (result === 'not-found') throw notFound(`tenant ${id}`);
      if (result === 'deleted') {
        log.info({ tenantId: id }, 'tenant deleted');
        return;
      }
      if (!cascade) throw tenantHasReceivers(id, await store.tenants.receiverCount(id));
      for (let page = await receivers.list(500, undefined, id); page.data.length > 0; page = await receivers.list(500, undefined, id)) {
        for (const receiver of page.data) await receivers.delete(receiver.id, principal, log).catch(ignoreNotFound);
      }
    }
    throw tenantHasReceivers(id, await store.tenants.receiverCount(id));
  }

  /** A link to the consumer portal carrying a new short-lived `tenant:<id>` token (in the fragment: never sent to a server, never in a log). */
  async portal(id: string, expiresInS: number | undefined, baseUrl: string, log: DomainLog = this.options.log): Promise<PortalLink> {
    await this.get(id);
    const expiresAt = new Date(Date.now() + (expiresInS ?? DEFAULT_PORTAL_S) * 1000).toISOString();
    const { token } = await this.options.tokens.create({ name: `portal link for ${id}`, scopes: [tenantScope(id)], expiresAt }, log);
    return { url: `${baseUrl}/ui/portal#${new URLSearchParams({ token, tenant: id }).toString()}`, expiresAt };
  }
}

/** A receiver deleted meanwhile (by someone else) is as good as deleted by the cascade. */
function ignoreNotFound(error: unknown): void {
  if (!(error instanceof LockstepError && error.code === 'LOCKSTEP_NOT_FOUND')) throw error;
}
