import { firstIdAt, newId } from '../ids.js';
import type { ReplicaBarrier } from '../redis-replicas.js';
import { deliveriesOf } from './attempts.js';
import { as, GroupBatches } from './batch.js';
import type { Keys } from './keys.js';
import { deletedAtOf, PayloadEraser, type PayloadDeletion } from './payload-deletion.js';
import { subscribesTo, type ReceiverDirectory, type ReceiverStore } from './receivers.js';
import type { StoreRedis } from './scripts.js';
import { readHomeCopy, ShardedIntake, type AcceptCall } from './sharded-intake.js';
import { TurnPipeline } from './turn-pipeline.js';
import type { AcceptedMessage, Message } from './types.js';

export interface NewMessage {
  eventType: string;
  payload: unknown;
  /** Explicit receivers; absent = every enabled receiver whose event types match. */
  receiverIds?: string[];
  idempotencyKey?: string;
  /** Only this tenant's receivers; absent = only receivers without a tenant. */
  tenantId?: string;
}

export type ResendResult =
  | { kind: 'resent'; message: AcceptedMessage }
  | { kind: 'not-found' }
  | { kind: 'unknown-receiver'; receiverId: string }
  /** Its payload was deleted (payload-deletion.ts): nothing is left to send. */
  | { kind: 'payload-deleted' };

export type AcceptResult =
  /** `toWake`: the receivers that may have no drain job yet (their queue was empty, or held only retries not due yet). */
  | { kind: 'accepted'; message: AcceptedMessage; toWake: string[] }
  | { kind: 'duplicate'; message: AcceptedMessage }
  | { kind: 'unknown-receiver'; receiverId: string }
  /** The event-type catalog changed after the payload was checked with `catalogVersion`: check it again. */
  | { kind: 'stale-catalog' };

const IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60;

/**
 * How often one process trims old ids from a message index (the global one, and a tenant's) in its
 * accepts: a trim per accept was two of intake's thirteen Redis commands. The listing skips ids whose
 * message is gone, so what waits here for the next trim is never shown.
 */
const INDEX_TRIM_EVERY_MS = 1000;
/** Tenants whose last trim this process remembers; past that it forgets them all (they trim again early, once). */
const TRIMS_REMEMBERED = 10_000;

/** The accept script's key count, keys and arguments. */
type AcceptArgs = [number, ...(string | number)[]];

export class MessageStore {
  /** Intake's copy of the receivers' event filters, refreshed whenever their version moves. */
  private directory: ReceiverDirectory | undefined;
  private readonly pipeline: TurnPipeline;
  /** Intake group by group, with several shard groups (keys.ts). */
  private readonly sharded: ShardedIntake | undefined;
  /** When this process last trimmed each tenant's index ('' = messages without a tenant) and the global one with it. */
  private readonly trimmedAt = new Map<string, number>();
  private readonly eraser: PayloadEraser;

  constructor(
    private readonly redis: StoreRedis,
    private readonly keys: Keys,
    private readonly receivers: ReceiverStore,
    /** A message whose deliveries are all final is removed this long after (Redis expiry). */
    private readonly retentionMs: number,
    /** A 202 waits until the replicas have the message (redis-replicas.ts). */
    private readonly replicas: ReplicaBarrier,
  ) {
    this.pipeline = new TurnPipeline(redis);
    this.sharded = keys.groupKeys.length > 1 ? new ShardedIntake(redis, keys, this.pipeline, receivers, retentionMs) : undefined;
    this.eraser = new PayloadEraser(redis, keys, retentionMs, replicas);
  }

  /** Deletes the message's payload and cancels its unfinished deliveries (payload-deletion.ts). */
  deletePayload(id: string): Promise<PayloadDeletion> {
    return this.eraser.erase(id);
  }

  /** `traceparent`: the trace context kept with the message for its delivery attempts' spans. */
  accept(input: NewMessage, catalogVersion: string, traceparent?: string): Promise<AcceptResult> {
    return this.acceptMany([input], catalogVersion, traceparent).then((results) => results[0] as AcceptResult);
  }

  /**
   * Stores messages with their deliveries: each message atomically (one script), all of them in
   * one pipelined round trip. Fan-out uses the cached receiver directory; a script refuses when
   * the receivers changed since (version check), and those messages go again with a fresh one.
   */
  async acceptMany(inputs: NewMessage[], catalogVersion: string, traceparent = ''): Promise<AcceptResult[]> {
    const results: AcceptResult[] = [];
    let pending = inputs.map((_, index) => index);
    while (pending.length > 0) {
      const needsDirectory = pending.some((index) => !inputs[index]?.receiverIds);
      const directory = needsDirectory ? (this.directory ??= await this.receivers.directory()) : undefined;
      const sent = pending.map((index) => {
        const input = inputs[index] as NewMessage;
        const receiverIds = input.receiverIds ?? matching(directory as ReceiverDirectory, input.eventType, input.tenantId);
        const message = { id: this.newMessageId(input.idempotencyKey, receiverIds), eventType: input.eventType, createdAt: new Date().toISOString() };
        return { index, message, call: this.acceptCall(message, input, receiverIds, { receivers: directory?.version, catalog: catalogVersion }, traceparent) };
      });
      const replies = await Promise.all(sent.map(({ call }) => this.runAccept(call)));
      const stale: number[] = [];
      for (const [position, { index, message }] of sent.entries()) {
        const fields = replies[position] ?? [];
        if (fields[0] === 'stale') stale.push(index);
        else if (fields[0] === 'stale-catalog') results[index] = { kind: 'stale-catalog' };
        // only a duplicate needs a read (its first message); the rest is the reply itself
        else results[index] = fields[0] === 'duplicate' ? await this.toDuplicate(fields[1] as string, message) : toAcceptResult(fields, message);
      }
      if (stale.length > 0) this.directory = undefined;
      pending = stale;
    }
    // Duplicates too: the first accept of their key may not have reached the replicas yet.
    await this.replicas.confirm();
    return results;
  }

  /**
   * Whether a message of this type without a tenant would reach any receiver now (the directory as
   * of the receivers' current version): Lockstep's own events are stored only when someone
   * subscribes to them.
   */
  async subscribed(eventType: string): Promise<boolean> {
    const version = (await this.redis.get(this.keys.receiversVersion)) ?? '0';
    if (this.directory?.version !== version) this.directory = await this.receivers.directory();
    return matching(this.directory, eventType, undefined).length > 0;
  }

  /**
   * One group: one accept script, in one round trip shared with the other requests of this turn.
   * Several: in steps, group by group (sharded-intake.ts).
   */
  private runAccept(call: AcceptCall): Promise<string[]> {
    if (this.sharded) return this.sharded.accept(call);
    const args = acceptArgs(this.keys, call, this.retentionMs);
    return this.pipeline.add(this.keys, (p) => p.acceptMessage(...args), as.list);
  }

  /** Finishes fan-outs to several shard groups cut short more than a few seconds ago (the emitters' reconciler); how many. */
  finishUnfinished(): Promise<number> {
    return this.sharded?.finishStale() ?? Promise.resolve(0);
  }

  async get(id: string): Promise<Message | null> {
    // one key per shard group holds the message with its deliveries there and their attempts (lua/includes/keys.lua)
    const hash = await this.readCopies(id);
    const { eventType, payload, createdAt, tenant, payloadDeletedAt } = hash;
    if (!createdAt || eventType === undefined || (payload === undefined && payloadDeletedAt === undefined)) return null;
    return {
      id,
      ...(tenant ? { tenantId: tenant } : {}),
      eventType,
      payload: payload === undefined ? null : (JSON.parse(payload) as unknown),
      ...deletedAtOf(payloadDeletedAt),
      createdAt,
      deliveries: deliveriesOf(hash),
    };
  }

  /** The message's home copy with the deliveries of every other copy (accept.lua): one with one shard group. */
  private async readCopies(id: string): Promise<Record<string, string>> {
    const home = this.keys.of(id);
    const hash = await this.redis.hgetall(home.message(id));
    const others = [...this.keys.byGroup(hash.receiverIds ? hash.receiverIds.split(',') : []).keys()].filter((group) => group !== home);
    if (others.length === 0) return hash;
    const batches = new GroupBatches(this.redis);
    const copies = others.map((group) => batches.in(group).add((p) => p.hgetall(group.message(id)), as.hash));
    await batches.run();
    // each copy holds its own group's delivery and attempt fields; the message's fields are the same in all
    for (const copy of copies) Object.assign(hash, copy.value);
    return hash;
  }

  /** A new delivery of a stored message to each receiver (default: the receivers it went to). */
  async resend(id: string, receiverIds: string[] | undefined): Promise<ResendResult> {
    const home = this.keys.of(id);
    const stored = await readHomeCopy(this.redis, this.keys, id);
    if (!stored) return { kind: (await this.redis.hexists(home.message(id), 'payloadDeletedAt')) ? 'payload-deleted' : 'not-found' };
    const targets = receiverIds ?? stored.receiverIds;
    if (receiverIds) {
      // a receiver of another tenant counts as unknown, as at accept
      const tenants = await this.receivers.tenantsOf(receiverIds);
      const unknown = receiverIds.find((receiverId) => tenants.get(receiverId) !== stored.tenant);
      if (unknown !== undefined) return { kind: 'unknown-receiver', receiverId: unknown };
    }
    // group by group (lua/resend.lua), the home group last: it lists every receiver resent to
    const { eventType, payload, createdAt, traceparent, tenant } = stored;
    const base = JSON.stringify({ eventType, payload, createdAt, tp: traceparent, tenant });
    const groups = [...this.keys.byGroup(targets, home)].reverse();
    const resent: string[] = [];
    for (const [group, ids] of groups) {
      const isHome = group === home;
      const idem = isHome && stored.idempotencyKey !== '' ? group.idempotency(stored.idempotencyKey) : group.message(id);
      const keys = [idem, ...group.copyKeys(id), ...ids.flatMap((receiverId) => [group.receiver(receiverId), group.queue(receiverId), group.dead(receiverId)])];
      const args = [id, isHome ? '' : base, isHome ? resent.join(',') : '', isHome ? stored.idempotencyKey : '', String(ids.length), ...ids];
      const [kind, ...rest] = await this.redis.resendMessage(keys.length, ...keys, ...args);
      if (kind === 'not-found') return { kind };
      // deleted after the read above: what this resend queued in other groups is cancelled again
      if (kind === 'payload-deleted') {
        await this.eraser.erase(id, resent);
        return { kind };
      }
      resent.push(...rest);
    }
    await this.replicas.confirm();
    return { kind: 'resent', message: { id, eventType, createdAt, receiverIds: targets.filter((receiverId) => resent.includes(receiverId)) } };
  }

  /** The accept-time view of a stored message (what a 202 answered). */
  async getAccepted(id: string): Promise<AcceptedMessage | null> {
    const [eventType, createdAt, receiverIds] = await this.redis.hmget(this.keys.of(id).message(id), 'eventType', 'createdAt', 'receiverIds');
    if (!eventType || !createdAt) return null;
    return { id, eventType, createdAt, receiverIds: receiverIds ? receiverIds.split(',') : [] };
  }

  private async toDuplicate(firstId: string, message: Omit<AcceptedMessage, 'receiverIds'>): Promise<AcceptResult> {
    // expired between the script and this read (its retention ran out that moment): answer with the id only
    const stored = await this.getAccepted(firstId);
    return { kind: 'duplicate', message: stored ?? { id: firstId, eventType: message.eventType, createdAt: message.createdAt, receiverIds: [] } };
  }

  /** The first id the indexes keep, when this accept is to trim them (about once a second per tenant), else ''. */
  private trimBound(tenant: string): string {
    const now = Date.now();
    if (now - (this.trimmedAt.get(tenant) ?? 0) < INDEX_TRIM_EVERY_MS) return '';
    if (this.trimmedAt.size >= TRIMS_REMEMBERED) this.trimmedAt.clear();
    this.trimmedAt.set(tenant, now);
    return firstIdAt('msg', now - this.retentionMs);
  }

  private acceptCall(
    message: Omit<AcceptedMessage, 'receiverIds'>,
    input: NewMessage,
    receiverIds: string[],
    versions: { receivers: string | undefined; catalog: string },
    traceparent: string,
  ): AcceptCall {
    const tenant = input.tenantId ?? '';
    // every field spelled out: an object spread here put each call object in dictionary mode (a
    // profile of intake showed this function at 8 % of the API's CPU)
    return {
      id: message.id,
      eventType: message.eventType,
      createdAt: message.createdAt,
      payload: JSON.stringify(input.payload),
      mode: input.receiverIds ? 'explicit' : 'match',
      receiversVersion: versions.receivers ?? '',
      receiverIds,
      idempotencyKey: input.idempotencyKey ?? '',
      idempotencyTtl: input.idempotencyKey ? IDEMPOTENCY_TTL_SECONDS : 0,
      traceparent,
      tenant,
      trimBound: this.trimBound(tenant),
      catalogVersion: versions.catalog,
    };
  }

  /**
   * A new message id whose home group (keys.ts: the group its id hashes to, holding the copy with
   * the idempotency fields) is the idempotency key's group, or else one of its receivers' groups,
   * so that no group gets a copy without deliveries when it can be helped. One group: any id.
   */
  private newMessageId(idempotencyKey: string | undefined, receiverIds: string[]): string {
    const k = this.keys;
    if (k.groupKeys.length === 1) return newId('msg');
    const homes = new Set(idempotencyKey !== undefined ? [k.of(idempotencyKey)] : receiverIds.map((id) => k.of(id)));
    return k.mintIn(homes, () => newId('msg'));
  }
}

/** lua/accept.lua's keys and arguments (one shard group), built in one array: 64 requests in flight hold one each across a round trip. */
function acceptArgs(k: Keys, call: AcceptCall, retentionMs: number): AcceptArgs {
  const { receiverIds } = call;
  const out: AcceptArgs = [0, k.idempotency(call.idempotencyKey), k.messageIndex, k.tenantMessages(call.tenant), k.eventTypesVersion, k.receiversVersion];
  for (const key of k.intakeKeys(call.id, receiverIds)) out.push(key);
  out[0] = out.length - 1; // the key count
  out.push(call.id, call.eventType, call.payload, call.createdAt, call.mode, call.receiversVersion, call.idempotencyTtl, retentionMs);
  out.push(call.idempotencyKey, call.traceparent, call.tenant, call.trimBound, call.catalogVersion, k.work, receiverIds.length);
  for (const receiverId of receiverIds) out.push(receiverId);
  return out;
}

function toAcceptResult(reply: string[], message: Omit<AcceptedMessage, 'receiverIds'>): AcceptResult {
  const [kind, first] = reply;
  if (kind === 'unknown-receiver') return { kind, receiverId: first as string };
  return { kind: 'accepted', message: { ...message, receiverIds: reply.slice(3) }, toWake: reply[2] ? reply[2].split(',') : [] };
}

/** The enabled receivers of the message's tenant (or of none) that subscribe to its type; accept.lua checks the tenant again. */
function matching(directory: ReceiverDirectory, eventType: string, tenantId: string | undefined): string[] {
  return directory.receivers.filter((r) => r.enabled && r.tenantId === tenantId && subscribesTo(r.eventTypes, eventType)).map((r) => r.id);
}
