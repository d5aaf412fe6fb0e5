import type { ReplicaBarrier } from '../redis-replicas.js';
import type { Tenant } from '../shapes/tenants.js';
import { as, Batch } from './batch.js';
import type { Keys } from './keys.js';
import type { StoreRedis } from './scripts.js';
import type { Page } from './types.js';

/** Tenants: one hash each (`json`: the record), and a sorted set of their ids for paging. */
export class TenantStore {
  constructor(
    private readonly redis: StoreRedis,
    private readonly keys: Keys,
    /** Every change the API acknowledges waits for the replicas first (redis-replicas.ts): a failover must not bring a revoked token back. */
    private readonly replicas: ReplicaBarrier,
  ) {}

  /** Stores a new tenant; false when its id is taken. */
  async create(tenant: Tenant): Promise<boolean> {
    const replies = await this.redis
      .multi()
      .hsetnx(this.keys.tenant(tenant.id), 'json', JSON.stringify(tenant))
      .zadd(this.keys.tenants, 0, tenant.id) // a no-op when the id was taken
      .exec();
    await this.replicas.confirm();
    return replies?.[0]?.[1] === 1;
  }

  async get(id: string): Promise<Tenant | null> {
    const json = await this.redis.hget(this.keys.tenant(id), 'json');
    return json ? (JSON.parse(json) as Tenant) : null;
  }

  async exists(ids: string[]): Promise<Set<string>> {
    const batch = new Batch(this.redis.pipeline());
    const found = ids.map((id) => ({ id, exists: batch.add((p) => p.exists(this.keys.tenant(id)), as.count) }));
    await batch.run();
    return new Set(found.filter(({ exists }) => exists.value === 1).map(({ id }) => id));
  }

  async list(limit: number, cursor: string | undefined): Promise<Page<Tenant>> {
    const ids = await this.redis.zrangebylex(this.keys.tenants, cursor ? `(${cursor}` : '-', '+', 'LIMIT', 0, limit + 1);
    const page = ids.slice(0, limit);
    const batch = new Batch(this.redis.pipeline());
    const read = page.map((id) => batch.add((p) => p.hget(this.keys.tenant(id), 'json'), as.text));
    await batch.run();
    const data = read.flatMap((json) => (json.value ? [JSON.parse(json.value) as Tenant] : []));
    return { data, next: ids.length > limit ? (page.at(-1) ?? null) : null };
  }

  /** Replaces the record; false when the tenant is gone. */
  async update(tenant: Tenant): Promise<boolean> {
    const updated = (await this.redis.updateTenant(this.keys.tenant(tenant.id), JSON.stringify(tenant))) === 1;
    await this.replicas.confirm();
    return updated;
  }

  /** How many receivers the tenant has. */
  async receiverCount(id: string): Promise<number> {
    const counts = await Promise.all(this.keys.groupKeys.map((g) => this.redis.zcard(g.tenantReceivers(id))));
    return counts.reduce((sum, count) => sum + count, 0);
  }

  /**
   * Deletes a tenant without receivers: 'deleted', 'not-found', or 'has-receivers'. In steps, as its
   * receivers sit in every shard group (lua/delete-tenant.lua says why no receiver is left behind).
   */
  async delete(id: string): Promise<'deleted' | 'not-found' | 'has-receivers'> {
    const k = this.keys;
    const result = await this.step(id, 'mark').then(async (found) => {
      if (!found) return 'not-found';
      if ((await this.receiverCount(id)) > 0) {
        await this.step(id, 'unmark');
        return 'has-receivers';
      }
      await this.step(id, 'drop');
      await Promise.all(k.groupKeys.map((g) => this.redis.del(g.tenantMessages(id))));
      return 'deleted';
    });
    await this.replicas.confirm();
    return result;
  }

  private async step(id: string, step: 'mark' | 'unmark' | 'drop'): Promise<boolean> {
    return (await this.redis.deleteTenant(this.keys.tenant(id), this.keys.tenants, step, id)) === 1;
  }
}
