/** A message's fields a delivery needs, which never change once it is accepted (`MESSAGE_FIELDS`). */
export interface MessageFields {
  eventType: string;
  payloadJson: string;
  createdAt: string;
  traceparent: string;
  idempotency?: { key: string; untilMs: number };
}

/** A cached message, or a read of it under way (undefined: it was gone). */
export type CachedMessage = MessageFields | Promise<MessageFields | undefined>;

/** What the cache holds at most: entries, and their payloads' characters. */
const MAX_ENTRIES = 4096;
const MAX_CHARS = 8 * 1024 * 1024;

/**
 * The emitter's recently read messages, by message key (the copy in the receiver's shard group).
 * A message fanned out to many receivers is read once per emitter, not once per delivery: its
 * fields never change. A read under way is shared too: a fan-out's first turns run together, and
 * would otherwise all read the same messages. Least recently used entries leave first.
 */
export class MessageCache {
  private readonly entries = new Map<string, CachedMessage>();
  private chars = 0;

  get(key: string): CachedMessage | undefined {
    const cached = this.entries.get(key);
    if (cached) {
      this.entries.delete(key);
      this.entries.set(key, cached);
    }
    return cached;
  }

  /** `read` reads the message: until it ends, `get` hands it out; then its fields, when it found them. */
  reading(key: string, read: Promise<MessageFields | undefined>): void {
    // not kept, but still observed: a read failing with Redis gone is the caller's error, and an
    // unobserved one an unhandled rejection that ends the emitter (chaos, a Redis restart mid-read)
    if (this.entries.has(key)) return void read.catch(() => {});
    this.add(key, read);
    const settle = (fields?: MessageFields): void => {
      if (this.entries.get(key) !== read) return;
      this.entries.delete(key);
      if (fields && fields.payloadJson.length <= MAX_CHARS / 16) this.add(key, fields);
    };
    read.then(settle, () => settle());
  }

  private add(key: string, cached: CachedMessage): void {
    this.entries.set(key, cached);
    this.chars += sizeOf(cached);
    for (const [oldest, entry] of this.entries) {
      if (this.entries.size <= MAX_ENTRIES && this.chars <= MAX_CHARS) break;
      this.entries.delete(oldest);
      this.chars -= sizeOf(entry);
    }
  }
}

function sizeOf(cached: CachedMessage): number {
  return cached instanceof Promise ? 0 : cached.payloadJson.length;
}
