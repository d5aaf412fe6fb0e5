import { createHash, randomBytes } from 'node:crypto';
import { badField, notFound } from '../errors.js';
import { newId } from '../ids.js';
import type { Logger } from '../logger.js';
import type { CreatedToken, CreateToken, Token } from '../shapes/tokens.js';
import type { Page, Store, TokenRecord } from '../store/index.js';
import type { DomainLog } from './log.js';
import { principalOf, scopedTenants, type Principal } from './scopes.js';
import { unknownTenant } from './tenants.js';

/**
 * How long a process may keep answering from its copy of a token's record. A revocation (or an
 * expiry) is seen by every API process within this, well inside the one second promised.
 */
export const TOKEN_CACHE_MS = 500;
/** A process remembers this many tokens at most (a flood of distinct tokens cannot grow it). */
const CACHE_SIZE = 10_000;

/**
 * A token is 32 random bytes (256 bits), stored only as its SHA-256. A slow, salted hash (bcrypt,
 * scrypt) protects guessable passwords; no one can guess 256 random bits, so a leaked store gives
 * nothing away all the same, and the digest is the key a request's token is looked up by in one read.
 */
export function digestOf(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

function newToken(): string {
  return `lst_${randomBytes(32).toString('base64url')}`;
}

export interface TokensOptions {
  store: Store;
  log: Logger;
}

/** Stored API tokens with scopes: create (shown once), list (never the token), revoke, and the lookup every request makes. */
export class Tokens {
  private readonly cache = new Map<string, { record: TokenRecord | null; readAt: number }>();

  constructor(private readonly options: TokensOptions) {}

  async create(input: CreateToken, log: DomainLog = this.options.log): Promise<CreatedToken> {
    const { store } = this.options;
    const tenants = scopedTenants(input.scopes);
    if (tenants.length > 1) throw badField('scopes', 'may name one tenant at most (one tenant:<id> scope)', 422);
    const [tenant] = tenants;
    if (tenant !== undefined && !(await store.tenants.exists([tenant])).has(tenant)) throw unknownTenant('scopes', tenant);
    if (input.expiresAt !== undefined && Date.parse(input.expiresAt) <= Date.now()) throw badField('expiresAt', 'is in the past', 422);
    const record: TokenRecord = {
      id: newId('tok'),
      name: input.name,
      scopes: input.scopes,
      expiresAt: input.expiresAt === undefined ? null : new Date(input.expiresAt).toISOString(),
      createdAt: new Date().toISOString(),
    };
    const token = newToken();
    await store.tokens.create(record, digestOf(token));
    log.info({ tokenId: record.id, scopes: record.scopes, expiresAt: record.expiresAt }, 'API token created');
    return { ...record, token };
  }

  list(limit: number, cursor: string | undefined): Promise<Page<Token>> {
    return this.options.store.tokens.list(limit, cursor);
  }

  async revoke(id: string, log: DomainLog = this.options.log): Promise<void> {
    if (!(await this.options.store.tokens.revoke(id))) throw notFound(`token ${id}`);
    log.info({ tokenId: id }, 'API token revoked');
  }

  /** Who a bearer token stands for, by its digest (`digestOf`), or undefined when it is unknown, revoked or expired. */
  async authenticate(digest: string): Promise<Principal | undefined> {
    const now = Date.now();
    let entry = this.cache.get(digest);
    if (!entry || now - entry.readAt > TOKEN_CACHE_MS) {
      entry = { record: await this.options.store.tokens.find(digest), readAt: now };
      this.cache.delete(digest); // re-inserted last: the map's order is the order of reads
      this.cache.set(digest, entry);
      if (this.cache.size > CACHE_SIZE) this.cache.delete(this.cache.keys().next().value as string);
    }
    const { record } = entry;
    if (!record || (record.expiresAt !== null && Date.parse(record.expiresAt) <= Date.now())) return undefined;
    return principalOf(record.scopes, record.id);
  }
}
