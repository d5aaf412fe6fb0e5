import { as, Batch } from './batch.js';
import type { Claim, ClaimedDelivery } from './deliveries.js';
import { firstState, MESSAGE_FIELDS, readMessage, toClaimed, type ClaimReply } from './delivery-replies.js';
import type { Keys } from './keys.js';
import { MessageCache } from './message-cache.js';
import type { StoreRedis } from './scripts.js';

/**
 * Reads the messages of a claimed window (claim.lua names its deliveries only) in one round trip
 * after the claim. A first attempt whose message this emitter read before takes it from the cache
 * (or waits for a read of it under way), with the state the claim handed out: in a fan-out, a
 * message is read once per emitter instead of once per receiver (issue 13). One EXISTS for the
 * window's cached messages keeps the rule that a delivery whose message is gone is dropped, not sent.
 */
export class WindowReader {
  private readonly cache = new MessageCache();

  constructor(
    private readonly redis: StoreRedis,
    private readonly keys: Keys,
  ) {}

  /** The claimed window with its messages; null when every one of them was gone (dropped: claim again). */
  async read(receiverId: string, reply: ClaimReply): Promise<Claim | null> {
    if (reply.kind !== 'send') return reply;
    const { picks, readStates, ...window } = reply;
    const k = this.keys.of(receiverId);
    const hits = picks.map(({ messageId, seq }) => (seq !== undefined && !readStates ? this.cache.get(k.message(messageId)) : undefined));
    const batch = new Batch(this.redis.pipeline());
    const reads = picks.map(({ messageId }, i) =>
      hits[i] !== undefined ? undefined : batch.add((p) => p.hmget(k.message(messageId), ...MESSAGE_FIELDS, k.deliveryField(receiverId)), as.texts),
    );
    const cachedKeys = picks.filter((_, i) => hits[i] !== undefined).map(({ messageId }) => k.message(messageId));
    const present = cachedKeys.length > 0 ? batch.add((p) => p.exists(...cachedKeys), as.count) : undefined;
    // each read parsed once, for this window and for the cache (other windows may wait on it)
    const parsed = batch.run().then(() => reads.map((read) => (read ? readMessage(read.value) : undefined)));
    picks.forEach(({ messageId }, i) => {
      if (reads[i])
        this.cache.reading(
          k.message(messageId),
          parsed.then((all) => all[i]?.message),
        );
    });
    const stored = await parsed;
    const cached = await Promise.all(hits.map((hit) => Promise.resolve(hit)));
    // a cached message was removed since: read the whole window, so that its delivery is dropped
    if ((present && present.value < cachedKeys.length) || cached.some((message, i) => hits[i] !== undefined && !message))
      return this.read(receiverId, { ...reply, readStates: true });

    const deliveries: ClaimedDelivery[] = [];
    const gone: string[] = [];
    picks.forEach((pick, i) => {
      const hit = cached[i];
      if (hit && pick.seq !== undefined) return void deliveries.push(toClaimed(receiverId, pick, hit, firstState(pick.seq)));
      const { message, state } = stored[i] ?? {};
      if (!message || !state) return void gone.push(pick.messageId);
      deliveries.push(toClaimed(receiverId, pick, message, state));
    });
    if (gone.length === 0) return { ...window, deliveries };
    // a gone message must never block the queue (lua/drop-gone.lua checks again)
    const keys = [k.queue(receiverId), k.retries(receiverId), ...k.statsKeys, ...gone.map((id) => k.message(id))];
    await this.redis.dropGone(keys.length, ...keys, receiverId, ...gone);
    return deliveries.length > 0 ? { ...window, deliveries } : null;
  }
}
