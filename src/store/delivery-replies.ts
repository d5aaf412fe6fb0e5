import type { Claim, ClaimedDelivery, ClaimedReceiver, RecordResult } from './deliveries.js';

/** The replies of claim.lua and record.lua, read into the types deliveries.ts hands out. */

/** A delivery a claim chose: its message is read next (`MESSAGE_FIELDS`). */
export interface Picked {
  messageId: string;
  retry: boolean;
}

/** A claim.lua reply: a window of picks whose messages are still to read, or why there is none. */
export type ClaimReply = Exclude<Claim, { kind: 'send' }> | (Omit<Extract<Claim, { kind: 'send' }>, 'deliveries'> & { picks: Picked[] });

/** What a claimed delivery needs of its message's hash, the delivery's own state field last. */
export const MESSAGE_FIELDS = ['eventType', 'payload', 'createdAt', 'tp', 'idem', 'idemUntil'] as const;

/**
 * A picked delivery from its message's fields (`MESSAGE_FIELDS`, then its state JSON); undefined
 * when the message or the delivery is gone.
 */
export function toClaimed(receiverId: string, { messageId, retry }: Picked, fields: (string | null)[]): ClaimedDelivery | undefined {
  const [eventType, payloadJson, createdAt, traceparent, idem, idemUntil, state] = fields;
  if (!eventType || !payloadJson || !createdAt || !state) return undefined;
  const { seq, attempts, failures } = JSON.parse(state) as { seq: number; attempts: number; failures: number };
  return {
    receiverId,
    messageId,
    seq,
    retry,
    attempt: attempts + 1,
    failures,
    eventType,
    payloadJson,
    createdAt,
    traceparent: traceparent ?? '',
    ...(idem ? { idempotency: { key: idem, untilMs: Number(idemUntil ?? 0) } } : {}),
  };
}

/** A claim.lua reply: `send` with the receiver's settings and the window's picks, or why none. */
export function parseClaim(reply: string[]): ClaimReply {
  const [kind, ...rest] = reply;
  if (kind === 'wait') return { kind, inMs: Number(rest[0]) };
  if (kind === 'fenced') return { kind, maxFence: Number(rest[0]) };
  if (kind !== 'send') return { kind: kind as 'gone' | 'disabled' | 'empty' };
  const [config, failStreak, ahead, previousFor, ...fields] = rest as [string, string, string, string, ...string[]];
  const { url, secret, previousSecret, headers, timeoutMs, ordering, retrySchedule, maxInFlight, rateLimitPerSecond, rateLimitBurst } = JSON.parse(
    config,
  ) as Partial<ClaimedReceiver> & Pick<ClaimedReceiver, 'url' | 'secret' | 'headers' | 'timeoutMs'> & { previousSecret?: string };
  const picks: Picked[] = [];
  for (let i = 0; i + 1 < fields.length; i += 2) picks.push({ messageId: fields[i] as string, retry: fields[i + 1] === 'r' });
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
  return { kind, receiver, failStreak: Number(failStreak), picks, ...(rate ? { rate } : {}) };
}

/** A record.lua reply. */
export function parseRecord(reply: (string | number)[]): RecordResult {
  if (reply[0] === 'fenced') return { kind: 'fenced' };
  return {
    kind: 'recorded',
    breakerOpened: Number(reply[1]) === 1,
    enabled: Number(reply[2]) === 1,
    queued: Number(reply[3]) === 1,
    statuses: reply.slice(4).map(String),
  };
}
