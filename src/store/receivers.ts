import { OWN_EVENT_PREFIX } from '../shapes/common.js';
import { newId } from '../ids.js';
import type { ReplicaBarrier } from '../redis-replicas.js';
import { as, Batch, GroupBatches, type Reply } from './batch.js';
import { swapConfig } from './config-swap.js';
import type { NoticeConfirmations } from './notice-confirmations.js';
import { allMembers, lexPage } from './group-reads.js';
import { announceReceiverChange } from './receiver-version.js';
import type { Keys } from './keys.js';
import { namedMessages } from './named-messages.js';
import type { StoreRedis } from './scripts.js';
import type { Page, ReceiverPatch, ReceiverSettings, ReceiverView } from './types.js';

/** Queued deliveries a delete cancels per script call (lua/delete-receiver.lua): bounded work per call. */
const DELETE_BATCH = 1000;

/** The fields of a receiver hash other than `config`. */
type ReceiverHash = Record<string, string>;

/** Stored configuration: the settings minus the fields kept as hash fields of their own. */
type StoredConfig = Omit<ReceiverSettings, 'enabled'> & { createdAt: string; updatedAt: string };

export type ReceiverPage = Page<ReceiverView>;

/** The slice of every receiver that intake needs to fan a message out. */
export interface ReceiverDirectory {
  version: string;
  receivers: { id: string; eventTypes: string[]; enabled: boolean; tenantId: string | undefined }[];
}

export class ReceiverStore {
  constructor(
    private readonly redis: StoreRedis,
    private readonly keys: Keys,
    /** Dead letters older than this are gone with their messages (lua/includes/retention.lua). */
    private readonly retentionMs: number,
    /** Every change the API acknowledges waits for the replicas first (redis-replicas.ts). */
    private readonly replicas: ReplicaBarrier,
    /** …and a config change for the emitters to take it in (notice-confirmations.ts). */
    private readonly confirmations: NoticeConfirmations,
  ) {}

  /** Stores a new receiver; null when `tenantId` names no tenant (checked in the same step as the write). */
  create(settings: ReceiverSettings): Promise<ReceiverView>;
  create(settings: ReceiverSettings, tenantId: string | undefined): Promise<ReceiverView | null>;
  async create(settings: ReceiverSettings, tenantId?: string): Promise<ReceiverView | null> {
    const id = await this.newReceiverId();
    const now = new Date().toISOString();
    const { enabled, ...rest } = settings;
    const config: StoredConfig = { ...rest, createdAt: now, updatedAt: now };
    const tenant = tenantId ?? '';
    const g = this.keys.of(id);
    await this.redis.createReceiver(
      g.receiver(id),
      g.receivers,
      g.receiversVersion,
      g.tenantReceivers(tenant),
      id,
      JSON.stringify(config),
      enabled ? '1' : '0',
      tenant,
    );
    // checked after the write: a tenant deletion that began before this read sees the receiver, or this read sees it begun (lua/delete-tenant.lua)
    if (tenant !== '' && !(await this.tenantIsLive(tenant))) {
      await this.delete(id);
      return null;
    }
    await announceReceiverChange(this.redis, this.keys);
    await this.replicas.confirm();
    return this.get(id);
  }

  /**
   * A new receiver's id, minted into the shard group with the fewest receivers: hashing random ids
   * left groups (and so Cluster masters) 20 % apart with a few hundred receivers.
   */
  private async newReceiverId(): Promise<string> {
    const groups = this.keys.groupKeys;
    if (groups.length === 1) return newId('rcv');
    const counts = await Promise.all(groups.map((group) => this.redis.zcard(group.receivers)));
    const fewest = Math.min(...counts);
    return this.keys.mintIn(new Set(groups.filter((_, g) => counts[g] === fewest)), () => newId('rcv'));
  }

  async get(id: string): Promise<ReceiverView | null> {
    const batch = new Batch(this.redis.multi());
    const view = this.queueView(batch, id);
    await batch.run();
    return view();
  }

  /** A page of every receiver, or of one tenant's receivers. */
  async list(limit: number, cursor: string | undefined, tenantId?: string): Promise<ReceiverPage> {
    const indexes = this.keys.groupKeys.map((g) => (tenantId === undefined ? g.receivers : g.tenantReceivers(tenantId)));
    const ids = await lexPage(this.redis, indexes, cursor, limit + 1);
    const page = ids.slice(0, limit);
    const batches = new GroupBatches(this.redis);
    const views = page.map((id) => this.queueView(batches.in(this.keys.of(id)), id));
    await batches.run();
    const data = views.map((view) => view()).filter((receiver): receiver is ReceiverView => receiver !== null);
    return { data, next: ids.length > limit ? (page.at(-1) ?? null) : null };
  }

  /**
   * Applies a partial update. Returns the new view and whether the receiver was (re-)enabled by
   * it, so the caller can wake its queue. Enabling clears `disabledReason` and the backoff.
   */
  async update(id: string, patch: ReceiverPatch): Promise<{ receiver: ReceiverView; enabledNow: boolean; unconfirmed: number } | null> {
    const { enabled, ...settings } = patch;
    // Only the `config` field is rewritten: the health fields emitters write are left alone.
    // Two PATCHes of one receiver racing each other: the last one wins, field by field of its body;
    // a PATCH and a key rotation never undo each other (compare and set: config-swap.ts).
    const swap = await swapConfig(this.redis, this.keys, this.confirmations, id, (read) => {
      const next = { ...(JSON.parse(read) as StoredConfig), ...settings, updatedAt: new Date().toISOString() } as StoredConfig & Record<string, unknown>;
      // `null` clears an optional setting (a rate limit, a retry schedule)
      for (const [field, value] of Object.entries(settings)) if (value === null) delete next[field];
      // a key set by PATCH replaces the current one at once: no rotation overlap goes on with an older key
      if (settings.secret !== undefined) delete next.previousSecret;
      return { config: JSON.stringify(next), ...(settings.secret !== undefined ? { overlapMs: 0 } : {}), ...(enabled === undefined ? {} : { enabled }) };
    });
    if (swap.kind === 'gone') return null;
    await this.replicas.confirm();
    return { receiver: (await this.get(id)) as ReceiverView, enabledNow: enabled === true && !swap.wasEnabled, unconfirmed: swap.unconfirmed };
  }

  /** The tenant of each of `ids` whose receiver hash exists ('' for one without a tenant). */
  async tenantsOf(ids: string[]): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    const batches = new GroupBatches(this.redis);
    const found = ids.map((id) => {
      const [batch, key] = [batches.in(this.keys.of(id)), this.keys.of(id).receiver(id)];
      return { id, exists: batch.add((p) => p.exists(key), as.count), tenant: batch.add((p) => p.hget(key, 'tenant'), as.text) };
    });
    await batches.run();
    return new Map(found.flatMap(({ id, exists, tenant }) => (exists.value === 1 ? [[id, tenant.value ?? '']] : [])));
  }

  /** Stops new sends to a receiver about to be deleted (its lock holder ends its turn); false when there is no such receiver. */
  async markDeleting(id: string): Promise<boolean> {
    const g = this.keys.of(id);
    const marked = (await this.redis.markDeleting(g.receiver(id), g.receiversVersion)) === 1;
    await announceReceiverChange(this.redis, this.keys);
    return marked;
  }

  /** Deletes the receiver and cancels its unfinished deliveries; false when there was no such receiver. */
  async delete(id: string): Promise<boolean> {
    const k = this.keys.of(id);
    const tenant = (await this.redis.hget(k.receiver(id), 'tenant')) ?? ''; // never changes: safe to read first
    const own = [k.receiver(id), k.queue(id), k.dead(id), k.receivers, k.receiversVersion, k.retries(id), k.tenantReceivers(tenant), ...k.statsKeys];
    let reply: number;
    do {
      // the script cancels the deliveries it is named (lua/delete-receiver.lua): 2 = more were queued meanwhile
      const named = await namedMessages(this.redis, k, await this.redis.zrange(k.queue(id), 0, DELETE_BATCH - 1));
      reply = await this.redis.deleteReceiver(own.length + named.keys.length, ...own, ...named.keys, id, this.retentionMs, ...named.args);
    } while (reply === 2);
    const deleted = reply === 1;
    await announceReceiverChange(this.redis, this.keys);
    await this.replicas.confirm();
    return deleted;
  }

  /**
   * Re-queues the receiver's dead deliveries: those that died at or after `since`, or only those of
   * `messageIds` (ids that are not its dead letters are skipped). Returns how many.
   */
  async replayDead(id: string, filter: { since?: Date; messageIds?: string[] }): Promise<number> {
    const k = this.keys.of(id);
    const ids = filter.messageIds ?? (await this.redis.zrangebyscore(k.dead(id), filter.since?.getTime() ?? 0, '+inf'));
    const named = await namedMessages(this.redis, k, ids);
    const own = [k.dead(id), k.queue(id), k.receiver(id), k.retries(id), ...k.statsKeys];
    const count = await this.redis.replayDead(own.length + named.keys.length, ...own, ...named.keys, id, this.retentionMs, ...named.args);
    await this.replicas.confirm();
    return count;
  }

  /** Queues the reads of one receiver's view into `batch`; the returned function builds it once the batch ran. */
  private queueView(batch: Batch, id: string): () => ReceiverView | null {
    const k = this.keys.of(id);
    const hash: Reply<ReceiverHash> = batch.add((p) => p.hgetall(k.receiver(id)), as.hash);
    const depth = batch.add((p) => p.zcard(k.queue(id)), as.count);
    const dead = batch.add((p) => p.zcount(k.dead(id), this.deadSince(), '+inf'), as.count);
    const firstRetry = batch.add((p) => p.zrange(k.retries(id), 0, 0, 'WITHSCORES'), as.texts);
    return () => toView(id, hash.value, { queueDepth: depth.value, deadLetters: dead.value }, Number(firstRetry.value[1] ?? 0));
  }

  /** Dead letters that died before this (ms) are past retention: their messages are gone, they are not counted. */
  private deadSince(): number {
    return Date.now() - this.retentionMs;
  }

  /**
   * Enabled receivers with unfinished deliveries: a scan of every receiver (two commands each, one
   * round trip), for the emitters' infrequent check for receivers left without a drain job.
   */
  async withWork(): Promise<string[]> {
    const ids = await allMembers(this.redis, this.receiverIndexes());
    const batches = new GroupBatches(this.redis);
    const found = ids.map((id) => {
      const [k, batch] = [this.keys.of(id), batches.in(this.keys.of(id))];
      return { id, depth: batch.add((p) => p.zcard(k.queue(id)), as.count), enabled: batch.add((p) => p.hget(k.receiver(id), 'enabled'), as.text) };
    });
    await batches.run();
    return found.filter(({ depth, enabled }) => depth.value > 0 && enabled.value === '1').map(({ id }) => id);
  }

  async directory(): Promise<ReceiverDirectory> {
    const [version, ids] = await Promise.all([this.redis.get(this.keys.receiversVersion), allMembers(this.redis, this.receiverIndexes())]);
    const batches = new GroupBatches(this.redis);
    const fields = ids.map((id) => ({
      id,
      fields: batches.in(this.keys.of(id)).add((p) => p.hmget(this.keys.of(id).receiver(id), 'config', 'enabled', 'tenant'), as.texts),
    }));
    await batches.run();
    const receivers = fields.flatMap(
      ({
        id,
        fields: {
          value: [config, enabled, tenant],
        },
      }) => (config ? [{ id, eventTypes: (JSON.parse(config) as StoredConfig).eventTypes, enabled: enabled === '1', tenantId: tenant ?? undefined }] : []),
    );
    return { version: version ?? '0', receivers };
  }

  /** Whether the tenant exists and is not being deleted (lua/delete-tenant.lua). */
  private async tenantIsLive(tenantId: string): Promise<boolean> {
    const [json, deleting] = await this.redis.hmget(this.keys.tenant(tenantId), 'json', 'deleting');
    return json !== null && deleting === null;
  }

  private receiverIndexes(): string[] {
    return this.keys.groupKeys.map((g) => g.receivers);
  }
}

/** `firstRetryAt`: when the receiver's earliest retry is due (ms, Redis's clock; 0 = none waits). */
function toView(id: string, hash: ReceiverHash | undefined, counts: { queueDepth: number; deadLetters: number }, firstRetryAt: number): ReceiverView | null {
  if (!hash?.config) return null;
  const { previousSecret, ...config } = JSON.parse(hash.config) as StoredConfig & { previousSecret?: string };
  const backoffUntil = Number(hash.backoffUntil ?? 0);
  const previousUntil = previousSecret ? Number(hash.previousSecretUntil ?? 0) : 0;
  return {
    id,
    ...(hash.tenant ? { tenantId: hash.tenant } : {}),
    ...config,
    ...(previousUntil > Date.now() ? { previousSecretExpiresAt: new Date(previousUntil).toISOString() } : {}),
    // receivers stored before these settings existed
    signatureScheme: config.signatureScheme ?? 'hmac-sha256',
    ordering: config.ordering ?? 'unordered',
    maxInFlight: config.maxInFlight ?? 1,
    rateLimitBurst: config.rateLimitBurst ?? 1,
    enabled: hash.enabled === '1',
    ...(hash.enabled !== '1' && hash.disabledReason ? { disabledReason: hash.disabledReason } : {}),
    health: {
      lastSuccessAt: isoOrNull(hash.lastSuccessAt),
      lastFailureAt: isoOrNull(hash.lastFailureAt),
      consecutiveFailures: Number(hash.failStreak ?? 0),
      // a retry waiting goes at its time or, while the receiver is held, once the hold ends
      nextRetryAt: firstRetryAt > 0 || backoffUntil > Date.now() ? new Date(Math.max(firstRetryAt, backoffUntil)).toISOString() : null,
      breaker: {
        state: hash.breakerOpenedAt ? 'open' : 'closed',
        since: isoOrNull(hash.breakerOpenedAt),
        nextProbeAt: hash.breakerOpenedAt && backoffUntil > 0 ? new Date(backoffUntil).toISOString() : null,
      },
      ...counts,
    },
  };
}

function isoOrNull(ms: string | undefined): string | null {
  return ms && Number(ms) > 0 ? new Date(Number(ms)).toISOString() : null;
}

/**
 * Whether a receiver with these filters gets a message of this type: Lockstep's own events
 * (`lockstep.…`) only when a filter names them (`lockstep.*` or the type), never through `*` or an
 * empty filter, so that no receiver gets them without asking.
 */
export function subscribesTo(patterns: string[], eventType: string): boolean {
  if (!eventType.startsWith(OWN_EVENT_PREFIX)) return matchesEventType(patterns, eventType);
  const own = patterns.filter((pattern) => pattern.startsWith(OWN_EVENT_PREFIX));
  return own.length > 0 && matchesEventType(own, eventType);
}

/** `*` matches everything; `a.*` matches `a.b` and `a.b.c`; anything else matches exactly. */
export function matchesEventType(patterns: string[], eventType: string): boolean {
  if (patterns.length === 0) return true;
  return patterns.some((pattern) => pattern === '*' || pattern === eventType || (pattern.endsWith('.*') && eventType.startsWith(pattern.slice(0, -1))));
}
