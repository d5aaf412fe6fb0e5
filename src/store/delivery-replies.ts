import type { Claim, ClaimedDelivery, ClaimedReceiver, RecordResult } from './deliveries.js';
import type { MessageFields } from './message-cache.js';

/** The replies of claim.lua and record.lua, read into the types deliveries.ts hands out. */

/** A delivery a claim chose: its message is read next (`MESSAGE_FIELDS`), unless cached. */
export interface Picked {
  messageId: string;
  /** A first attempt's place in the receiver's acceptance order; undefined for a retry. */
  seq?: number;
}

/**
 * A claim.lua reply: a window of picks whose messages are still to read, or why there is none.
 * `readStates`: a resent delivery may be among the first attempts, so every state must be read.
 */
export type ClaimReply = Exclude<Claim, { kind: 'send' }> | (Omit<Extract<Claim, { kind: 'send' }>, 'deliveries'> & { picks: Picked[]; readStates: boolean });

/** What a claimed delivery needs of its message's hash, the delivery's own state field last. */
export const MESSAGE_FIELDS = ['eventType', 'payload', 'createdAt', 'tp', 'idem', 'idemUntil'] as const;

/** A delivery's state as its message's hash keeps it (`d:<receiverId>`), as far as a claim needs it. */
export interface DeliveryState {
  seq: number;
  attempts: number;
  failures: number;
}

/** A message's fields and a delivery's state, as `MESSAGE_FIELDS` and the state field read them; undefined parts are gone. */
export function readMessage(fields: (string | null)[]): { message?: MessageFields; state?: DeliveryState } {
  const [eventType, payloadJson, createdAt, traceparent, idem, idemUntil, state] = fields;
  const message =
    eventType && payloadJson && createdAt
      ? {
          eventType,
          payloadJson,
          createdAt,
          traceparent: traceparent ?? '',
          ...(idem ? { idempotency: { key: idem, untilMs: Number(idemUntil ?? 0) } } : {}),
        }
      : undefined;
  return { ...(message ? { message } : {}), ...(state ? { state: JSON.parse(state) as DeliveryState } : {}) };
}

/** A picked delivery from its message and its state (a first attempt's is known without a read: claim.lua). */
export function toClaimed(receiverId: string, { messageId, seq }: Picked, message: MessageFields, state: DeliveryState): ClaimedDelivery {
  return { receiverId, messageId, seq: state.seq, retry: seq === undefined, attempt: state.attempts + 1, failures: state.failures, ...message };
}

/** The state of a first attempt not resent: claimed from the queue, never attempted. */
export function firstState(seq: number): DeliveryState {
  return { seq, attempts: 0, failures: 0 };
}

/** A claim.lua reply: `send` with the receiver's settings and the window's picks, or why none. */
export function parseClaim(reply: string[]): ClaimReply {
  const [kind, ...rest] = reply;
  if (kind === 'wait') return { kind, inMs: Number(rest[0]) };
  if (kind === 'fenced') return { kind, maxFence: Number(rest[0]) };
  if (kind !== 'send') return { kind: kind as 'gone' | 'disabled' | 'empty' };
  const [config, failStreak, ahead, previousFor, readStates, ...fields] = rest as [string, string, string, string, string, ...string[]];
  const { url, secret, previousSecret, headers, timeoutMs, ordering, retrySchedule, maxInFlight, rateLimitPerSecond, rateLimitBurst } = JSON.parse(
    config,
  ) as Partial<ClaimedReceiver> & Pick<ClaimedReceiver, 'url' | 'secret' | 'headers' | 'timeoutMs'> & { previousSecret?: string };
  const picks: Picked[] = [];
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const kind = fields[i + 1] as string;
    picks.push({ messageId: fields[i] as string, ...(kind === 'r' ? {} : { seq: Number(kind) }) });
  }
  const receiver: ClaimedReceiver = {
    url,
    secret,
    ...(previousSecret && Number(previousFor) > 0 ? { previous: { secret: previousSecret, forMs: Number(previousFor) } } : {}),
    headers,
    timeoutMs,
    ordering: ordering ?? 'unordered',
    maxInFlight: maxInFlight ?? 1,
    ...(retrySchedule ? { retrySchedule } : {}),
  };
  const rate = rateLimitPerSecond ? { intervalMs: 1000 / rateLimitPerSecond, burst: rateLimitBurst ?? 1, aheadMs: Number(ahead) } : undefined;
  return { kind, receiver, failStreak: Number(failStreak), picks, readStates: readStates === '1', ...(rate ? { rate } : {}) };
}

/** A record.lua reply. */
export function parseRecord(reply: (string | number)[]): RecordResult {
  if (reply[0] === 'fenced') return { kind: 'fenced' };
  return {
    kind: 'recorded',
    breakerOpened: Number(reply[1]) === 1,
    enabled: Number(reply[2]) === 1,
    queued: Number(reply[3]) === 1,
    ...(reply[4] ? { disabledNow: String(reply[4]) } : {}),
    ...(reply[5] === 'failing' || reply[5] === 'recovered' ? { failures: reply[5] } : {}),
    statuses: reply.slice(6).map(String),
  };
}
