import type { Claim, ClaimedDelivery, ClaimedReceiver, RecordResult } from './deliveries.js';

/** The replies of claim.lua and record.lua, read into the types deliveries.ts hands out. */

/** Fields per delivery in a claim's window (claim.lua). */
const WINDOW_FIELDS = 11;

/** A claim.lua reply: `send` with the receiver's settings and the window's deliveries, or why none. */
export function parseClaim(receiverId: string, reply: string[]): Claim {
  const [kind, ...rest] = reply;
  if (kind === 'wait') return { kind, inMs: Number(rest[0]) };
  if (kind === 'fenced') return { kind, maxFence: Number(rest[0]) };
  if (kind !== 'send') return { kind: kind as 'gone' | 'disabled' | 'empty' };
  const [config, failStreak, ahead, previousFor, ...fields] = rest as [string, string, string, string, ...string[]];
  const { url, secret, previousSecret, headers, timeoutMs, ordering, retrySchedule, maxInFlight, rateLimitPerSecond, rateLimitBurst } = JSON.parse(
    config,
  ) as Partial<ClaimedReceiver> & Pick<ClaimedReceiver, 'url' | 'secret' | 'headers' | 'timeoutMs'> & { previousSecret?: string };
  const deliveries: ClaimedDelivery[] = [];
  for (let i = 0; i + WINDOW_FIELDS <= fields.length; i += WINDOW_FIELDS) {
    const [messageId, seq, attempts, failures, origin, eventType, payloadJson, createdAt, traceparent, idem, idemUntil] = fields.slice(
      i,
      i + WINDOW_FIELDS,
    ) as [string, string, string, string, string, string, string, string, string, string, string];
    deliveries.push({
      receiverId,
      messageId,
      seq: Number(seq),
      retry: origin === 'r',
      attempt: Number(attempts) + 1,
      failures: Number(failures),
      eventType,
      payloadJson,
      createdAt,
      traceparent,
      ...(idem ? { idempotency: { key: idem, untilMs: Number(idemUntil) } } : {}),
    });
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
  return { kind, receiver, failStreak: Number(failStreak), deliveries, ...(rate ? { rate } : {}) };
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
