import { groupOf, groupPrefixes } from '../shard-groups.js';

/**
 * Every Redis key Lockstep writes, in one place. All keys start with the installation's prefix;
 * on Redis Cluster the prefix carries a hash tag such as `{lockstep}` so the scripts' keys share a slot.
 *
 * With `groups` > 1 (sharding: docs/architecture.md, "Redis Cluster") each receiver belongs to one
 * of that many shard groups, for its life: everything of a receiver (its hash, queue, retries,
 * dead set), the group's own sequence, counters, heads, wake set and drain queue, and the group's
 * copy of each message it has deliveries of, live under the group's prefix (`of(receiverId)`,
 * `groupKeys`), whose hash tag puts them in one slot. What is not a receiver's (tenants, tokens,
 * the event-type catalog, the message indexes, idempotency keys, process reports) stays under the
 * plain prefix. With one group the group's keys are the plain prefix's: the layout of one Redis.
 */
export class Keys {
  /** The groups' keys, group g at index g; just this object with one group. */
  readonly groupKeys: readonly Keys[];

  constructor(
    readonly prefix: string,
    groups = 1,
  ) {
    // the keys that name no id, built once: intake and the drain name several on every call
    this.shardGroups = `${prefix}:shard-groups`;
    this.receivers = `${prefix}:receivers`;
    this.receiversVersion = `${prefix}:receivers:version`;
    this.intake = `${prefix}:intake`;
    this.wake = `${prefix}:wake`;
    this.sequence = `${prefix}:seq`;
    this.processes = `${prefix}:procs`;
    this.stats = `${prefix}:stats`;
    this.eventTypes = `${prefix}:event-types`;
    this.eventTypesVersion = `${prefix}:event-types:version`;
    this.keysChanged = `${prefix}:keys-changed`;
    this.keysHeard = `${prefix}:keys-heard`;
    this.work = `${prefix}:work`;
    this.replicationMark = `${prefix}:replicated`;
    this.messageIndex = `${prefix}:msgs`;
    this.tenants = `${prefix}:tenants`;
    this.tokens = `${prefix}:tokens`;
    this.statsKeys = [this.stats, this.heads('pending'), this.heads('retrying'), this.heads('dead')];
    this.groupKeys = groups <= 1 ? [this] : groupPrefixes(prefix, groups).map((groupPrefix) => new Keys(groupPrefix));
  }

  /**
   * The keys of the receiver's shard group (this object with one group). Of a message id: its home
   * group; of an idempotency key: the group holding it (accept.lua).
   */
  of(id: string): Keys {
    const groups = this.groupKeys;
    return groups.length === 1 ? this : (groups[groupOf(id, groups.length)] as Keys);
  }

  /** A new id from `mint` whose group is one of `groups` (any id when there are none): `groupKeys.length / groups.size` tries on average. */
  mintIn(groups: ReadonlySet<Keys>, mint: () => string): string {
    for (;;) {
      const id = mint();
      if (groups.size === 0 || groups.has(this.of(id))) return id;
    }
  }

  /** The ids by their shard group (`first` leading, even with none). */
  byGroup(ids: Iterable<string>, first?: Keys): Map<Keys, string[]> {
    const groups = new Map<Keys, string[]>(first ? [[first, []]] : []);
    for (const id of ids) {
      const group = this.of(id);
      const members = groups.get(group);
      if (members) members.push(id);
      else groups.set(group, [id]);
    }
    return groups;
  }

  /** The number of shard groups the installation was first started with (migrate.ts). */
  readonly shardGroups: string;
  /** Receiver hash: `config` JSON, `enabled`, `disabledReason`, health counters. */
  receiver(receiverId: string): string {
    return `${this.prefix}:rcv:${receiverId}`;
  }
  /** Sorted set (score 0) of every receiver id: ids are time-ordered, so lex order = creation order. */
  readonly receivers: string;
  /** Bumped on every receiver change; intake checks it to know its matching cache is current. */
  readonly receiversVersion: string;
  /** Sorted set of the receiver's unfinished deliveries: score = acceptance sequence, member = message id. */
  queue(receiverId: string): string {
    return `${this.prefix}:q:${receiverId}`;
  }
  /** Sorted set of the receiver's deliveries that must be attempted again: score = due time (Redis clock, ms). */
  retries(receiverId: string): string {
    return `${this.prefix}:rt:${receiverId}`;
  }
  /** Sorted set of the receiver's dead deliveries: score = time of death, member = message id. */
  dead(receiverId: string): string {
    return `${this.prefix}:dead:${receiverId}`;
  }
  /**
   * Sorted set of the messages whose fan-out to other shard groups may be unfinished (score: when
   * accepted, Redis's clock): lua/accept-home.lua adds, lua/finish-intake.lua removes.
   */
  readonly intake: string;
  /** Sorted set of receivers whose next drain turn is due later: score = when (Redis clock, ms). */
  readonly wake: string;
  /** Global acceptance sequence, so deliveries to one receiver are sent in acceptance order. */
  readonly sequence: string;
  /**
   * Message hash: `eventType`, `payload` (JSON text), `createdAt`, `receiverIds`, `open`, and
   * everything of its deliveries (one key to read, write and expire per message: issue 13):
   * `deliveryField` (state JSON) and `attemptField` (attempt n) per receiver, plus
   * `r:<receiver>:<service>:<fence>:<n>` for an attempt whose record was refused (lua/record.lua).
   */
  message(messageId: string): string {
    return `${this.prefix}:msg:${messageId}`;
  }
  /**
   * How the message hash's per-receiver fields begin: TypeScript's one definition of their names
   * (build them with the methods below, read them with `parseField`). The scripts' one is
   * lua/includes/keys.lua: keep the two alike. `refused` fields are written by the scripts only.
   */
  static readonly fields = { delivery: 'd:', attempt: 'a:', refused: 'r:' } as const;
  /** The message hash's field holding one receiver's delivery state (JSON). */
  deliveryField(receiverId: string): string {
    return `${Keys.fields.delivery}${receiverId}`;
  }
  /** The message hash's field holding one receiver's accepted attempt n (JSON); the first 3 and the last 10 are kept. */
  attemptField(receiverId: string, n: number): string {
    return `${Keys.fields.attempt}${receiverId}:${n}`;
  }
  /** Which kind of per-receiver field of a message hash `field` is, and whose; undefined for the message's own fields. */
  static parseField(field: string): { kind: keyof typeof Keys.fields; receiverId: string } | undefined {
    const kind = (Object.keys(Keys.fields) as (keyof typeof Keys.fields)[]).find((k) => field.startsWith(Keys.fields[k]));
    if (kind === undefined) return undefined;
    const start = Keys.fields[kind].length;
    const end = field.indexOf(':', start); // receiver ids hold no ':' (src/ids.ts)
    return { kind, receiverId: field.slice(start, end === -1 ? undefined : end) };
  }
  /** A running process's last report (JSON, expires unless renewed): see metrics/fleet.ts. */
  process(processId: string): string {
    return `${this.prefix}:proc:${processId}`;
  }
  /** Sorted set of process ids, score = time of their last report. */
  readonly processes: string;
  /** Hash of queue counters (`queued`, `retrying`, `dead`), kept by the scripts: lua/includes/stats.lua. */
  readonly stats: string;
  /** Sorted set of receiver ids by their oldest delivery of a kind (lua/includes/stats.lua). */
  heads(kind: 'pending' | 'retrying' | 'dead'): string {
    return `${this.prefix}:heads:${kind}`;
  }
  /** The counters and the three heads, in the order lua/includes/stats.lua's `statsKeys` reads them. */
  readonly statsKeys: readonly string[];
  /** What lua/includes/groups.lua reads first of a group: the message's copy there, the sequence, the statistics keys. */
  copyKeys(messageId: string): string[] {
    return [this.message(messageId), this.sequence, ...this.statsKeys];
  }
  /** A group's keys as lua/includes/groups.lua reads them when it stores a message: `copyKeys`, then each receiver's hash, queue and retry set. */
  intakeKeys(messageId: string, receiverIds: readonly string[]): string[] {
    const keys = this.copyKeys(messageId);
    for (const id of receiverIds) keys.push(this.receiver(id), this.queue(id), this.retries(id));
    return keys;
  }
  /** Hash of the event-type catalog: field = type name, value = the stored type (JSON, with its `version`). */
  readonly eventTypes: string;
  /** Counter bumped by every catalog write: intake validates with a cached catalog and accept.lua refuses a stale one. */
  readonly eventTypesVersion: string;
  /** Pub/sub channel: replace-config.lua publishes a receiver's id (and a token to confirm with) on it whenever its config (its keys) changes (notices.ts). */
  readonly keysChanged: string;
  /** Pub/sub channel: an emitter publishes a notice's token on it once it has taken the notice in (notice-confirmations.ts). */
  readonly keysHeard: string;
  /** Pub/sub channel: accept.lua publishes a receiver's id on it when its empty queue gets work (notices.ts). */
  readonly work: string;
  /** Counter bumped before each `WAIT`, so the wait covers every write answered before it (redis-replicas.ts). */
  readonly replicationMark: string;
  idempotency(key: string): string {
    return `${this.prefix}:idem:${key}`;
  }
  /** Sorted set (score 0) of every message id, time-ordered: GET /v1/messages reads it newest first. */
  readonly messageIndex: string;
  /** Tenant hash: `json` (the tenant record). */
  tenant(tenantId: string): string {
    return `${this.prefix}:tenant:${tenantId}`;
  }
  /** Sorted set (score 0) of every tenant id, in lexical order. */
  readonly tenants: string;
  /** Sorted set (score 0) of the tenant's receiver ids. */
  tenantReceivers(tenantId: string): string {
    return `${this.prefix}:tenant-rcv:${tenantId}`;
  }
  /** Sorted set (score 0) of the tenant's message ids, time-ordered. */
  tenantMessages(tenantId: string): string {
    return `${this.prefix}:tenant-msgs:${tenantId}`;
  }
  /** An API token's record (JSON), under the SHA-256 of the token (hex): the token itself is never stored. */
  token(digest: string): string {
    return `${this.prefix}:token:${digest}`;
  }
  /** A token id's digest, to find its record for GET and DELETE /v1/tokens. */
  tokenId(tokenId: string): string {
    return `${this.prefix}:token-id:${tokenId}`;
  }
  /** Sorted set (score 0) of every token id, time-ordered. */
  readonly tokens: string;
}
