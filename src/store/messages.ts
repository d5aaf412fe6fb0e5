import { newId } from '../ids.js';
import type { Keys } from './keys.js';
import { matchesEventType, type ReceiverDirectory, type ReceiverStore } from './receivers.js';
import type { StoreRedis } from './scripts.js';
import type { AcceptedMessage, Attempt, Delivery, DeliveryStatus, Message } from './types.js';

export interface NewMessage {
  eventType: string;
  payload: unknown;
  /** Explicit receivers; absent = every enabled receiver whose event types match. */
  receiverIds?: string[];
  idempotencyKey?: string;
}

export type ResendResult =
  | { kind: 'resent'; message: AcceptedMessage }
  | { kind: 'not-found' }
  | { kind: 'unknown-receiver'; receiverId: string };

export type AcceptResult =
  | { kind: 'accepted'; message: AcceptedMessage }
  | { kind: 'duplicate'; message: AcceptedMessage }
  | { kind: 'unknown-receiver'; receiverId: string };

const IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60;

interface StoredDelivery {
  status: DeliveryStatus;
  seq: number;
  attempts: number;
  failures: number;
  dueAt: number;
}

type StoredAttempt = Attempt & { receiverId: string };

export class MessageStore {
  /** Intake's copy of the receivers' event filters, refreshed whenever their version moves. */
  private directory: ReceiverDirectory | undefined;

  constructor(
    private readonly redis: StoreRedis,
    private readonly keys: Keys,
    private readonly receivers: ReceiverStore,
  ) {}

  /**
   * Stores the message and its deliveries atomically. Fan-out uses the cached directory; the
   * script refuses if the receivers changed since (version check), and we refresh and try again.
   */
  async accept(input: NewMessage): Promise<AcceptResult> {
    for (;;) {
      const directory = input.receiverIds ? undefined : (this.directory ??= await this.receivers.directory());
      const receiverIds = input.receiverIds ?? matching(directory as ReceiverDirectory, input.eventType);
      const id = newId('msg');
      const createdAt = new Date().toISOString();
      const reply = await this.runAccept(id, createdAt, input, receiverIds, directory?.version);
      switch (reply[0]) {
        case 'stale':
          this.directory = undefined;
          continue;
        case 'unknown-receiver':
          return { kind: 'unknown-receiver', receiverId: reply[1] as string };
        case 'duplicate':
          return { kind: 'duplicate', message: (await this.getAccepted(reply[1] as string)) as AcceptedMessage };
        default: {
          const accepted = reply.slice(2);
          return { kind: 'accepted', message: { id, eventType: input.eventType, receiverIds: accepted, createdAt } };
        }
      }
    }
  }

  async get(id: string): Promise<Message | null> {
    const [message, deliveries, attempts] = (await this.redis
      .multi()
      .hgetall(this.keys.message(id))
      .hgetall(this.keys.deliveries(id))
      .lrange(this.keys.attempts(id), 0, -1)
      .exec()) ?? [];
    const fields = message?.[1] as Record<string, string> | undefined;
    if (!fields?.createdAt) return null;
    const history = ((attempts?.[1] ?? []) as string[]).map((json) => JSON.parse(json) as StoredAttempt);
    return {
      id,
      eventType: fields.eventType as string,
      payload: JSON.parse(fields.payload as string) as unknown,
      createdAt: fields.createdAt,
      deliveries: Object.entries((deliveries?.[1] ?? {}) as Record<string, string>)
        .map(([receiverId, json]) => toDelivery(receiverId, JSON.parse(json) as StoredDelivery, history))
        .sort((a, b) => a.receiverId.localeCompare(b.receiverId)),
    };
  }

  /** A new delivery of a stored message to each receiver (default: the receivers it went to). */
  async resend(id: string, receiverIds: string[] | undefined): Promise<ResendResult> {
    const stored = await this.getAccepted(id);
    if (!stored) return { kind: 'not-found' };
    const targets = receiverIds ?? stored.receiverIds;
    const k = this.keys;
    const keys = [k.message(id), k.deliveries(id), k.sequence];
    for (const receiverId of targets) keys.push(k.receiver(receiverId), k.queue(receiverId), k.dead(receiverId));
    const [kind, ...rest] = await this.redis.resendMessage(keys.length, ...keys, id, receiverIds ? 'explicit' : 'default', ...targets);
    if (kind === 'not-found') return { kind };
    if (kind === 'unknown-receiver') return { kind, receiverId: rest[0] as string };
    return { kind: 'resent', message: { ...stored, receiverIds: rest } };
  }

  /** The accept-time view of a stored message (what a 202 answered). */
  async getAccepted(id: string): Promise<AcceptedMessage | null> {
    const [eventType, createdAt, receiverIds] = await this.redis.hmget(this.keys.message(id), 'eventType', 'createdAt', 'receiverIds');
    if (!eventType || !createdAt) return null;
    return { id, eventType, createdAt, receiverIds: receiverIds ? receiverIds.split(',') : [] };
  }

  private runAccept(id: string, createdAt: string, input: NewMessage, receiverIds: string[], version: string | undefined): Promise<string[]> {
    const k = this.keys;
    const keys = [k.message(id), k.deliveries(id), k.sequence, k.receiversVersion, k.idempotency(input.idempotencyKey ?? '')];
    for (const receiverId of receiverIds) keys.push(k.receiver(receiverId), k.queue(receiverId));
    const args = [
      id, input.eventType, JSON.stringify(input.payload), createdAt,
      input.receiverIds ? 'explicit' : 'match', version ?? '', input.idempotencyKey ? IDEMPOTENCY_TTL_SECONDS : 0,
      ...receiverIds,
    ];
    return this.redis.acceptMessage(keys.length, ...keys, ...args);
  }
}

function matching(directory: ReceiverDirectory, eventType: string): string[] {
  return directory.receivers.filter((r) => r.enabled && matchesEventType(r.eventTypes, eventType)).map((r) => r.id);
}

function toDelivery(receiverId: string, stored: StoredDelivery, history: StoredAttempt[]): Delivery {
  const waiting = stored.status === 'retrying' && stored.dueAt > Date.now();
  return {
    receiverId,
    status: stored.status,
    nextAttemptAt: waiting ? new Date(stored.dueAt).toISOString() : null,
    attempts: history.filter((a) => a.receiverId === receiverId).map(({ receiverId: _, ...attempt }) => attempt),
  };
}
