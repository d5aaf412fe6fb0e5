/** A message's fields a delivery needs, which never change once it is accepted (`MESSAGE_FIELDS`). */
export interface MessageFields {
  eventType: string;
  payloadJson: string;
  createdAt: string;
  traceparent: string;
  idempotency?: { key: string; untilMs: number };
}

/** What the cache holds at most: entries, and their payloads' bytes (UTF-16 length, near enough). */
const MAX_ENTRIES = 4096;
const MAX_CHARS = 8 * 1024 * 1024;

/**
 * The emitter's recently read messages, by message key (the copy in the receiver's shard group).
 * A message fanned out to many receivers is read once per emitter, not once per delivery: its
 * fields never change, so a first attempt needs no read of it (claim.lua hands out its state).
 * Least recently used entries leave first.
 */
export class MessageCache {
  private readonly entries = new Map<string, MessageFields>();
  private chars = 0;

  get(key: string): MessageFields | undefined {
    const fields = this.entries.get(key);
    if (fields) {
      this.entries.delete(key);
      this.entries.set(key, fields);
    }
    return fields;
  }

  set(key: string, fields: MessageFields): void {
    if (fields.payloadJson.length > MAX_CHARS / 16 || this.entries.has(key)) return;
    this.entries.set(key, fields);
    this.chars += fields.payloadJson.length;
    for (const [oldest, { payloadJson }] of this.entries) {
      if (this.entries.size <= MAX_ENTRIES && this.chars <= MAX_CHARS) break;
      this.entries.delete(oldest);
      this.chars -= payloadJson.length;
    }
  }
}
