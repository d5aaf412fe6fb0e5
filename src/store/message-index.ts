import { firstIdAt } from '../ids.js';
import type { MessageSummary } from '../shapes/message-list.js';
import { parseDelivery } from './attempts.js';
import { as, GroupBatches } from './batch.js';
import type { Keys } from './keys.js';
import { deletedAtOf } from './payload-deletion.js';
import { matchesEventType } from './receivers.js';
import { lexPageDesc } from './group-reads.js';
import type { StoreRedis } from './scripts.js';
import type { DeliveryStatus, Page } from './types.js';

export interface MessageListFilter {
  /** One tenant's messages; absent = every message. */
  tenantId?: string;
  /** An event type or a filter (`a.*`). */
  eventType?: string;
  /** Only messages sent to this receiver. */
  receiverId?: string;
  /** Only messages with a delivery in this status (with `receiverId`: that receiver's). */
  status?: DeliveryStatus;
  since?: Date;
  /** Only messages accepted before this time. */
  until?: Date;
  cursor?: string;
  limit: number;
}

/** Index entries read per round trip, and at most per request (a rare event type must not make one request read millions). */
const CHUNK = 200;
const MAX_SCANNED = 5000;

/**
 * The message indexes accept.lua keeps (every message, and each tenant's), newest first. Ids are
 * time-ordered, so an index is a sorted set read by lexical range: the cursor is the last id shown,
 * `since` is the first id of that millisecond.
 */
export class MessageIndex {
  constructor(
    private readonly redis: StoreRedis,
    private readonly keys: Keys,
  ) {}

  async list(filter: MessageListFilter): Promise<Page<MessageSummary>> {
    // each shard group indexes the messages whose home it is (lua/accept-home.lua): merged here
    const indexes = this.keys.groupKeys.map((g) => (filter.tenantId === undefined ? g.messageIndex : g.tenantMessages(filter.tenantId)));
    // an id is made a moment before its message's createdAt: read a second past each bound, keep by createdAt
    const window = { since: filter.since?.toISOString(), until: filter.until?.toISOString() };
    const floor = filter.since ? `[${firstIdAt('msg', filter.since.getTime() - 1000)}` : '-';
    const ceiling = filter.until ? firstIdAt('msg', filter.until.getTime() + 1000) : undefined;
    const found: MessageSummary[] = [];
    let last = filter.cursor === undefined || (ceiling !== undefined && ceiling < filter.cursor) ? ceiling : filter.cursor;
    for (let scanned = 0; scanned < MAX_SCANNED;) {
      const ids = await lexPageDesc(this.redis, indexes, last, floor, CHUNK);
      scanned += ids.length;
      const chosen = (await this.summaries(ids)).filter((summary): summary is Listed => summary !== null && chosenBy(filter, window, summary));
      while (chosen.length > 0) {
        // statuses are read for no more messages than the page still needs, unless some may be filtered out by theirs
        const take = chosen.splice(0, filter.status ? chosen.length : filter.limit + 1 - found.length);
        for (const summary of await this.withDeliveries(take)) if (hasStatus(filter, summary)) found.push(summary);
        // one more than the page: a next page exists
        if (found.length > filter.limit) return { data: found.slice(0, filter.limit), next: found[filter.limit - 1]?.id ?? null };
      }
      if (ids.length < CHUNK) return { data: found, next: null };
      last = ids.at(-1);
    }
    // out of reading budget: what was found, and where the next request goes on from
    return { data: found, next: last ?? null };
  }

  /** The tenant a message belongs to ('' for none) and when it was accepted, or null when there is no such message. */
  async ownerOf(messageId: string): Promise<{ tenantId: string; createdAt: string } | null> {
    const [createdAt, tenant] = await this.redis.hmget(this.keys.of(messageId).message(messageId), 'createdAt', 'tenant');
    return createdAt ? { tenantId: tenant ?? '', createdAt } : null;
  }

  private async summaries(ids: string[]): Promise<(Listed | null)[]> {
    const batches = new GroupBatches(this.redis);
    const read = ids.map((id) => ({
      id,
      fields: batches
        .in(this.keys.of(id))
        .add((p) => p.hmget(this.keys.of(id).message(id), 'eventType', 'createdAt', 'receiverIds', 'tenant', 'payloadDeletedAt'), as.texts),
    }));
    await batches.run();
    return read.map(({ id, fields: { value } }) => {
      const [eventType, createdAt, receiverIds, tenant, deletedAt] = value;
      if (!eventType || !createdAt) return null; // expired with its retention; a later accept's trim (once a second) drops the id
      const listed = { id, ...(tenant ? { tenantId: tenant } : {}), eventType, createdAt, receiverIds: receiverIds ? receiverIds.split(',') : [] };
      return { ...listed, ...deletedAtOf(deletedAt) };
    });
  }

  /** Each message with where its deliveries stand: every delivery field lives in its receiver's shard group's copy. */
  private async withDeliveries(summaries: Listed[]): Promise<MessageSummary[]> {
    const batches = new GroupBatches(this.redis);
    const reads = summaries.map(({ id, receiverIds }) =>
      [...this.keys.byGroup(receiverIds)].map(([group, ids]) => ({
        ids,
        fields: batches.in(group).add((p) => p.hmget(group.message(id), ...ids.map((receiverId) => group.deliveryField(receiverId))), as.texts),
      })),
    );
    await batches.run();
    return summaries.map((summary, n) => {
      const statuses = new Map<string, DeliveryStatus>();
      for (const { ids, fields } of reads[n] ?? [])
        ids.forEach((receiverId, i) => {
          const state = fields.value[i];
          if (state) statuses.set(receiverId, parseDelivery(state).status);
        });
      const deliveries = summary.receiverIds.flatMap((receiverId) => {
        const status = statuses.get(receiverId);
        return status ? [{ receiverId, status }] : [];
      });
      return { ...summary, deliveries };
    });
  }
}

/** A listed message before its deliveries are read. */
type Listed = Omit<MessageSummary, 'deliveries'>;

function chosenBy(filter: MessageListFilter, { since, until }: { since?: string | undefined; until?: string | undefined }, summary: Listed): boolean {
  return (
    (!since || summary.createdAt >= since) &&
    (!until || summary.createdAt < until) &&
    (!filter.eventType || matchesEventType([filter.eventType], summary.eventType)) &&
    (!filter.receiverId || summary.receiverIds.includes(filter.receiverId))
  );
}

function hasStatus({ status, receiverId }: MessageListFilter, summary: MessageSummary): boolean {
  return !status || summary.deliveries.some((delivery) => delivery.status === status && (!receiverId || delivery.receiverId === receiverId));
}
