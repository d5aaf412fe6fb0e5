import type { ReplicaBarrier } from '../redis-replicas.js';
import { as, Batch } from './batch.js';
import type { Keys } from './keys.js';
import type { StoreRedis } from './scripts.js';
import type { Page } from './types.js';

/** A stored API token: everything but the token, which is kept only as its SHA-256 (the key's name). */
export interface TokenRecord {
  id: string;
  name: string;
  scopes: string[];
  expiresAt: string | null;
  createdAt: string;
}

/**
 * API tokens: the record under the token's digest (one GET per lookup), the digest under the id (for
 * GET and DELETE /v1/tokens), and the ids in a sorted set. A token with an expiry leaves Redis at
 * that time (PEXPIREAT); the API refuses it from then on anyway.
 */
export class TokenStore {
  constructor(
    private readonly redis: StoreRedis,
    private readonly keys: Keys,
    /** Every change the API acknowledges waits for the replicas first (redis-replicas.ts): a failover must not bring a revoked token back. */
    private readonly replicas: ReplicaBarrier,
  ) {}

  async create(record: TokenRecord, digest: string): Promise<void> {
    const k = this.keys;
    const transaction = this.redis.multi().set(k.token(digest), JSON.stringify(record)).set(k.tokenId(record.id), digest).zadd(k.tokens, 0, record.id);
    if (record.expiresAt) {
      const at = Date.parse(record.expiresAt);
      transaction.pexpireat(k.token(digest), at).pexpireat(k.tokenId(record.id), at);
    }
    await transaction.exec();
    await this.replicas.confirm();
  }

  /** The record of the token with this digest, or null (unknown, revoked or expired). */
  async find(digest: string): Promise<TokenRecord | null> {
    const json = await this.redis.get(this.keys.token(digest));
    return json ? (JSON.parse(json) as TokenRecord) : null;
  }

  async list(limit: number, cursor: string | undefined): Promise<Page<TokenRecord>> {
    const k = this.keys;
    const ids = await this.redis.zrangebylex(k.tokens, cursor ? `(${cursor}` : '-', '+', 'LIMIT', 0, limit + 1);
    const page = ids.slice(0, limit);
    const digests = new Batch(this.redis.pipeline());
    const read = page.map((id) => ({ id, digest: digests.add((p) => p.get(k.tokenId(id)), as.text) }));
    await digests.run();
    const records = new Batch(this.redis.pipeline());
    const found = read.map(({ id, digest }) => ({ id, json: digest.value ? records.add((p) => p.get(k.token(digest.value as string)), as.text) : undefined }));
    await records.run();
    // an id whose token expired leaves the set here
    const gone = found.filter(({ json }) => !json?.value).map(({ id }) => id);
    if (gone.length > 0) await this.redis.zrem(k.tokens, ...gone);
    const data = found.flatMap(({ json }) => (json?.value ? [JSON.parse(json.value) as TokenRecord] : []));
    return { data, next: ids.length > limit ? (page.at(-1) ?? null) : null };
  }

  /** Deletes the token; false when there is no such token. */
  async revoke(id: string): Promise<boolean> {
    const k = this.keys;
    const digest = await this.redis.get(k.tokenId(id));
    if (!digest) return false;
    await this.redis.multi().del(k.token(digest), k.tokenId(id)).zrem(k.tokens, id).exec();
    await this.replicas.confirm();
    return true;
  }
}
