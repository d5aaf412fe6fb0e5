import type { Keys } from './keys.js';
import { as, Batch } from './batch.js';
import { storePipeline, type StoreRedis } from './scripts.js';
import type { Attempt, ReceiverOrdering } from './types.js';

/**
 * A lock holder's fencing token. `service` names the lock service that issued it: fences of
 * different services are unrelated numbers, so the store keeps one high-water mark per service.
 */
export interface Fence {
  service: string;
  value: number;
}

/** What the holder needs of the receiver to send to it, as stored at claim time. */
export interface ClaimedReceiver {
  url: string;
  secret: string;
  headers: Record<string, string>;
  timeoutMs: number;
  ordering: ReceiverOrdering;
  /** The receiver's own retry schedule (seconds), when it has one. */
  retrySchedule?: number[];
}

/** One delivery of a claimed window. */
export interface ClaimedDelivery {
  receiverId: string;
  messageId: string;
  /** Its place in the receiver's acceptance order. */
  seq: number;
  /** Claimed from the retry set (attempted before), or a first attempt. */
  retry: boolean;
  /** The number this attempt will have in the history (1 for the first). */
  attempt: number;
  /** Failed attempts so far: where the delivery stands on the retry schedule. */
  failures: number;
  eventType: string;
  payloadJson: string;
  createdAt: string;
}

/** Where a receiver's queue stands when its lock holder asks for the next window. */
export type Claim =
  | { kind: 'gone' | 'disabled' | 'empty' }
  /** A newer lock holder has been seen (`maxFence`): give the receiver up. */
  | { kind: 'fenced'; maxFence: number }
  /** Nothing may be sent for `inMs` more (backoff, breaker, a strict receiver's retry). */
  | { kind: 'wait'; inMs: number }
  /** Send these, in this order; `failStreak` is the receiver's consecutive failures so far. */
  | { kind: 'send'; receiver: ClaimedReceiver; failStreak: number; deliveries: ClaimedDelivery[] };

export type Outcome =
  | { kind: 'delivered' }
  | { kind: 'gone' }
  | { kind: 'aborted' }
  /** `holdMs` > 0: the receiver asked (429/503 + Retry-After) to be left alone that long, as a whole. */
  | { kind: 'failed'; retryInMs: number; final: boolean; holdMs: number };

/** One attempt to record. */
export interface AttemptRecord {
  delivery: ClaimedDelivery;
  attempt: Attempt;
  outcome: Outcome;
}

/** How the receiver's breaker is run: the threshold, and the receiver-wide waits once it is open. */
export interface BreakerPolicy {
  threshold: number;
  /** Waits (ms) between probes: the first once it opens, then one per further failure (the last repeats). */
  stepsMs: number[];
}

export type RecordResult = { kind: 'fenced' } | { kind: 'recorded'; breakerOpened: boolean; statuses: string[] };

/** Who is claiming or recording: the lock holder's fence. */
export interface Holder {
  fence: Fence;
}

/**
 * The emitter's side of the store: claim a window of a held receiver's due deliveries, and record
 * attempts in batches. Both refuse a holder whose fence is below one the receiver has seen.
 */
export class DeliveryStore {
  constructor(
    private readonly redis: StoreRedis,
    private readonly keys: Keys,
    /** A receiver whose deliveries keep ending dead this long (no success between) is disabled. */
    private readonly disableAfterDeadMs: number,
    /** A message whose deliveries are all final is removed this long after (Redis expiry). */
    private readonly retentionMs: number,
  ) {}

  /** Claims up to `size` due deliveries; one (the probe) while `breakerThreshold` consecutive failures stand. */
  async claim(receiverId: string, holder: Holder, size: number, breakerThreshold: number): Promise<Claim> {
    return parseClaim(receiverId, await this.redis.claimWindow(...this.claimArgs(receiverId, holder, size, breakerThreshold)));
  }

  /**
   * Records `records` (in the order the attempts were made) and, with `claimNext`, claims the next
   * window in the same round trip.
   */
  async record(
    receiverId: string,
    holder: Holder,
    records: AttemptRecord[],
    breaker: BreakerPolicy,
    claimNext?: number,
  ): Promise<{ result: RecordResult; next?: Claim }> {
    const batch = new Batch(storePipeline(this.redis));
    const recorded = records.length > 0 ? batch.add((p) => p.recordAttempts(...this.recordArgs(receiverId, holder, records, breaker)), as.mixed) : undefined;
    const claimed = claimNext ? batch.add((p) => p.claimWindow(...this.claimArgs(receiverId, holder, claimNext, breaker.threshold)), as.list) : undefined;
    await batch.run();
    const result = recorded ? parseRecord(recorded.value) : { kind: 'recorded' as const, breakerOpened: false, statuses: [] };
    return claimed ? { result, next: parseClaim(receiverId, claimed.value) } : { result };
  }

  private claimArgs(receiverId: string, holder: Holder, size: number, breakerThreshold: number): Parameters<StoreRedis['claimWindow']> {
    const k = this.keys;
    return [
      k.receiver(receiverId),
      k.queue(receiverId),
      k.retries(receiverId),
      holder.fence.value,
      holder.fence.service,
      k.prefix,
      receiverId,
      size,
      breakerThreshold,
    ];
  }

  private recordArgs(receiverId: string, holder: Holder, records: AttemptRecord[], breaker: BreakerPolicy): [number, ...(string | number)[]] {
    const k = this.keys;
    const keys = [k.receiver(receiverId), k.queue(receiverId), k.retries(receiverId), k.dead(receiverId), k.receiversVersion];
    const args: (string | number)[] = [
      holder.fence.value,
      holder.fence.service,
      receiverId,
      this.disableAfterDeadMs,
      `failing: its deliveries kept ending dead for ${humanDuration(this.disableAfterDeadMs)}`,
      breaker.threshold,
      breaker.stepsMs.map(Math.round).join(','),
      this.retentionMs,
      k.prefix,
    ];
    for (const { delivery, attempt, outcome } of records) {
      keys.push(k.deliveries(delivery.messageId), k.attempts(delivery.messageId, receiverId));
      const failed = outcome.kind === 'failed' ? outcome : undefined;
      args.push(
        delivery.messageId,
        delivery.seq,
        delivery.attempt - 1,
        delivery.failures,
        delivery.retry ? 'r' : 'f',
        JSON.stringify({ receiverId, ...attempt }),
        outcome.kind,
        Math.round(failed?.retryInMs ?? 0),
        failed?.final ? '1' : '0',
        Math.round(failed?.holdMs ?? 0),
      );
    }
    return [keys.length, ...keys, ...args];
  }
}

function humanDuration(ms: number): string {
  const units: [number, string][] = [
    [86_400_000, 'day'],
    [3_600_000, 'hour'],
    [60_000, 'minute'],
    [1000, 'second'],
  ];
  const [size, name] = units.find(([unit]) => ms >= unit) ?? [1, 'millisecond'];
  const count = Math.round(ms / size);
  return `${count} ${name}${count === 1 ? '' : 's'}`;
}

const WINDOW_FIELDS = 8;

function parseClaim(receiverId: string, reply: string[]): Claim {
  const [kind, ...rest] = reply;
  if (kind === 'wait') return { kind, inMs: Number(rest[0]) };
  if (kind === 'fenced') return { kind, maxFence: Number(rest[0]) };
  if (kind !== 'send') return { kind: kind as 'gone' | 'disabled' | 'empty' };
  const [config, failStreak, ...fields] = rest as [string, string, ...string[]];
  const { url, secret, headers, timeoutMs, ordering, retrySchedule } = JSON.parse(config) as ClaimedReceiver;
  const deliveries: ClaimedDelivery[] = [];
  for (let i = 0; i + WINDOW_FIELDS <= fields.length; i += WINDOW_FIELDS) {
    const [messageId, seq, attempts, failures, origin, eventType, payloadJson, createdAt] = fields.slice(i, i + WINDOW_FIELDS) as [
      string,
      string,
      string,
      string,
      string,
      string,
      string,
      string,
    ];
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
    });
  }
  const receiver: ClaimedReceiver = { url, secret, headers, timeoutMs, ordering: ordering ?? 'unordered', ...(retrySchedule ? { retrySchedule } : {}) };
  return { kind, receiver, failStreak: Number(failStreak), deliveries };
}

function parseRecord(reply: (string | number)[]): RecordResult {
  if (reply[0] === 'fenced') return { kind: 'fenced' };
  return { kind: 'recorded', breakerOpened: Number(reply[1]) === 1, statuses: reply.slice(2).map(String) };
}
