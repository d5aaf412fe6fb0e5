import { as } from './batch.js';
import type { Claim, ClaimedDelivery } from './deliveries.js';
import { firstState, MESSAGE_FIELDS, readMessage, toClaimed, type ClaimReply } from './delivery-replies.js';
import type { Keys } from './keys.js';
import { MessageCache } from './message-cache.js';
import type { StoreRedis } from './scripts.js';

/**
 * Reads the messages of a claimed window (claim.lua names its deliveries only) in one script call
 * after the claim (lua/read-window.lua). A first attempt whose message this emitter read before takes it from the cache
 * (or waits for a read of it under way), with the state the claim handed out: in a fan-out, a
 * message is read once per emitter instead of once per receiver (issue 13). The same call checks that
 * the window's cached messages still exist, which keeps the rule that a delivery whose message is
 * gone is dropped, not sent.
 */
export class WindowReader {
  private readonly cache = new MessageCache();

  constructor(
    private readonly redis: StoreRedis,
    private readonly keys: Keys,
    /** A message whose deliveries are all final is removed this long after (Redis expiry). */
    private readonly retentionMs: number,
  ) {}

  /** The claimed window with its messages; null when every one of them was gone (dropped: claim again). */
  async read(receiverId: string, reply: ClaimReply): Promise<Claim | null> {
    if (reply.kind !== 'send') return reply;
    const { picks, readStates, ...window } = reply;
    const k = this.keys.of(receiverId);
    const hits = picks.map(({ messageId, seq }) => (seq !== undefined && !readStates ? this.cache.get(k.message(messageId)) : undefined));
    const readKeys: string[] = [];
    const cachedKeys: string[] = [];
    // where each pick's read is among the reads (-1: taken from the cache)
    const readAt = picks.map(({ messageId }, i) => {
      const key = k.message(messageId);
      if (hits[i] === undefined) return readKeys.push(key) - 1;
      cachedKeys.push(key);
      return -1;
    });
    const fields = [...MESSAGE_FIELDS, k.deliveryField(receiverId)];
    const read = this.redis.readWindow(readKeys.length + cachedKeys.length, ...readKeys, ...cachedKeys, readKeys.length, ...fields);
    // each read parsed once, for this window and for the cache (other windows may wait on it)
    const parsed = read.then((values) => ({
      messages: readKeys.map((_, n) => readMessage(as.texts(values[n]))),
      present: as.count(values[readKeys.length]),
    }));
    picks.forEach(({ messageId }, i) => {
      const at = readAt[i] as number;
      if (at >= 0)
        this.cache.reading(
          k.message(messageId),
          parsed.then(({ messages }) => messages[at]?.message),
        );
    });
    const { messages: stored, present } = await parsed;
    const cached = await Promise.all(hits.map((hit) => Promise.resolve(hit)));
    // a cached message was removed since: read the whole window, so that its delivery is dropped
    if (present < cachedKeys.length || cached.some((message, i) => hits[i] !== undefined && !message))
      return this.read(receiverId, { ...reply, readStates: true });

    const deliveries: ClaimedDelivery[] = [];
    const gone: string[] = [];
    picks.forEach((pick, i) => {
      const hit = cached[i];
      if (hit && pick.seq !== undefined) return void deliveries.push(toClaimed(receiverId, pick, hit, firstState(pick.seq)));
      const { message, state } = stored[readAt[i] as number] ?? {};
      if (!message || !state) return void gone.push(pick.messageId);
      deliveries.push(toClaimed(receiverId, pick, message, state));
    });
    if (gone.length === 0) return { ...window, deliveries };
    // a gone message must never block the queue (lua/drop-gone.lua checks again)
    const keys = [k.queue(receiverId), k.retries(receiverId), ...k.statsKeys, ...gone.map((id) => k.message(id))];
    await this.redis.dropGone(keys.length, ...keys, receiverId, this.retentionMs, ...gone);
    return deliveries.length > 0 ? { ...window, deliveries } : null;
  }
}
