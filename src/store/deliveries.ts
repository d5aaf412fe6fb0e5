import type { Keys } from './keys.js';
import { as, Batch } from './batch.js';
import { parseClaim, parseRecord } from './delivery-replies.js';
import { storePipeline, type StoreRedis } from './scripts.js';
import type { Attempt, ReceiverOrdering } from './types.js';
import { WindowReader } from './window-read.js';

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
  /** The current signing key (`whsec_` or `whsk_`). */
  secret: string;
  /** A rotation's previous key while it still signs, and for how many ms after the claim was read (Redis's clock). */
  previous?: { secret: string; forMs: number };
  headers: Record<string, string>;
  timeoutMs: number;
  ordering: ReceiverOrdering;
  /** The receiver's own retry schedule (seconds), when it has one. */
  retrySchedule?: number[];
  /** Requests in flight at once (lanes); 1 for receivers stored before the setting existed. */
  maxInFlight: number;
  rateLimitPerSecond?: number;
  rateLimitBurst?: number;
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
  /** The W3C trace context stored with the message ('' = none). */
  traceparent: string;
  /** The message's idempotency key and its end: the record that closes the message shortens its life (retention). */
  idempotency?: { key: string; untilMs: number };
}

/** Where a receiver's queue stands when its lock holder asks for the next window. */
export type Claim =
  | { kind: 'gone' | 'disabled' | 'empty' }
  /** A newer lock holder has been seen (`maxFence`): give the receiver up. */
  | { kind: 'fenced'; maxFence: number }
  /** Nothing may be sent for `inMs` more (backoff, breaker, a strict receiver's retry). */
  | { kind: 'wait'; inMs: number }
  /** Send these, in this order; `failStreak` is the receiver's consecutive failures so far. */
  | { kind: 'send'; receiver: ClaimedReceiver; failStreak: number; deliveries: ClaimedDelivery[]; rate?: ClaimedRate };

/** A rate-limited window: the limiter's spacing, and how far (ms) its state was ahead of the claim's moment. */
export interface ClaimedRate {
  intervalMs: number;
  burst: number;
  aheadMs: number;
}

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
  /** The lock slot (k > 0) it was sent under, when not the holder's own: the store checks its fence too. */
  lane?: Fence;
}

/** A batch of attempts, in the order they ended, and how far the receiver's frontier may move with it. */
export interface AttemptBatch {
  records: AttemptRecord[];
  /** Every first attempt of the window up to this sequence is recorded once this batch is (0: no move). */
  frontier: number;
  /** Rate limit: the correction (ms) of the window's reservation to what really started (pacer.ts). */
  tatShiftMs?: number;
}

/** The next window to claim along with a record: its size, and how far ahead (ms) a rate limit may reserve. */
export interface NextClaim {
  size: number;
  horizonMs: number;
  /**
   * The last window came short (the queue held no more then): claim only if the record finds the
   * queue not empty, after it, instead of in the same round trip. A turn's last claim, which finds
   * nothing, costs ~5 commands: a quarter of a command per delivery in a 20-message fan-out (issue 13).
   */
  onlyIfQueued?: boolean;
}

/**
 * A claim ahead: what the holder has claimed and not recorded yet, while the tail of its current
 * window is in flight. First attempts are claimed above `seq` (the last one claimed), and the
 * retries in `retries` (message ids) count as gone from the retry set (claim.lua).
 */
export interface InFlight {
  seq: number;
  retries: readonly string[];
}

/** How the receiver's breaker is run: the threshold, and the receiver-wide waits once it is open. */
export interface BreakerPolicy {
  threshold: number;
  /** Waits (ms) between probes: the first once it opens, then one per further failure (the last repeats). */
  stepsMs: number[];
}

/**
 * `enabled: false`: the receiver was disabled or deleted meanwhile, so its holder stops sending.
 * `disabledNow`: this batch disabled it (a 410, or deliveries dying too long), with this reason.
 * `failures`: its consecutive failures reached the breaker threshold in this batch ('failing'), or
 * a success brought them back under it ('recovered').
 */
export type RecordResult =
  | { kind: 'fenced' }
  | {
      kind: 'recorded';
      breakerOpened: boolean;
      enabled: boolean;
      queued: boolean;
      disabledNow?: string;
      failures?: 'failing' | 'recovered';
      statuses: string[];
    };

/** Who is claiming or recording: the lock holder's fence. */
export interface Holder {
  fence: Fence;
}

/**
 * The emitter's side of the store: claim a window of a held receiver's due deliveries, and record
 * attempts in batches. Both refuse a holder whose fence is below one the receiver has seen.
 */
export class DeliveryStore {
  private readonly windows: WindowReader;

  constructor(
    private readonly redis: StoreRedis,
    private readonly keys: Keys,
    /** A receiver whose deliveries keep ending dead this long (no success between) is disabled. */
    private readonly disableAfterDeadMs: number,
    /** A message whose deliveries are all final is removed this long after (Redis expiry). */
    private readonly retentionMs: number,
  ) {
    this.windows = new WindowReader(redis, keys, retentionMs);
  }

  /**
   * Claims up to `size` due deliveries; one (the probe) while `breakerThreshold` consecutive
   * failures stand; for a rate-limited receiver no more than its limit allows within `horizonMs`;
   * past what is still `inFlight` when claiming ahead.
   */
  async claim(receiverId: string, holder: Holder, size: number, breakerThreshold: number, horizonMs = 0, inFlight?: InFlight): Promise<Claim> {
    for (;;) {
      const reply = parseClaim(await this.redis.claimWindow(...this.claimArgs(receiverId, holder, { size, horizonMs }, breakerThreshold, inFlight)));
      const claim = await this.windows.read(receiverId, reply);
      if (claim) return claim;
    }
  }

  /**
   * Records a batch (in the order the attempts ended) and, with `claimNext`, claims the next window
   * in the same round trip. A plain array is a single sender's batch, in claim order.
   */
  async record(
    receiverId: string,
    holder: Holder,
    attempts: AttemptBatch | AttemptRecord[],
    breaker: BreakerPolicy,
    claimNext?: NextClaim,
  ): Promise<{ result: RecordResult; next?: Claim }> {
    const batch = Array.isArray(attempts) ? inOrder(attempts) : attempts;
    const { records } = batch;
    const recording = records.length > 0 || (batch.tatShiftMs ?? 0) !== 0;
    // a record alone (the batches written behind the requests) or one that claims only if the queue
    // holds more: one script call, no pipeline to build (~0.07 ms of a hot receiver's 32-outcome batch)
    if (recording && (!claimNext || claimNext.onlyIfQueued)) {
      const result = parseRecord(await this.redis.recordAttempts(...this.recordArgs(receiverId, holder, batch, breaker)));
      if (result.kind === 'fenced' || !claimNext) return { result };
      const next = result.queued ? await this.claim(receiverId, holder, claimNext.size, breaker.threshold, claimNext.horizonMs) : { kind: 'empty' as const };
      return { result, next };
    }
    const pipeline = new Batch(storePipeline(this.redis));
    const recorded = recording ? pipeline.add((p) => p.recordAttempts(...this.recordArgs(receiverId, holder, batch, breaker)), as.mixed) : undefined;
    const claimed = claimNext ? pipeline.add((p) => p.claimWindow(...this.claimArgs(receiverId, holder, claimNext, breaker.threshold)), as.list) : undefined;
    await pipeline.run();
    const result = recorded ? parseRecord(recorded.value) : { kind: 'recorded' as const, breakerOpened: false, enabled: true, queued: true, statuses: [] };
    if (!claimed) return { result };
    const next = await this.windows.read(receiverId, parseClaim(claimed.value));
    return { result, next: next ?? (await this.claim(receiverId, holder, claimNext?.size ?? 1, breaker.threshold, claimNext?.horizonMs)) };
  }

  private claimArgs(
    receiverId: string,
    holder: Holder,
    { size, horizonMs }: NextClaim,
    breakerThreshold: number,
    inFlight?: InFlight,
  ): Parameters<StoreRedis['claimWindow']> {
    const k = this.keys.of(receiverId);
    return [
      k.receiver(receiverId),
      k.queue(receiverId),
      k.retries(receiverId),
      holder.fence.value,
      holder.fence.service,
      size,
      breakerThreshold,
      Math.round(horizonMs),
      inFlight?.seq ?? 0,
      ...(inFlight?.retries ?? []),
    ];
  }

  private recordArgs(
    receiverId: string,
    holder: Holder,
    { records, frontier, tatShiftMs }: AttemptBatch,
    breaker: BreakerPolicy,
  ): [number, ...(string | number)[]] {
    const k = this.keys.of(receiverId);
    const keys = [k.receiver(receiverId), k.queue(receiverId), k.retries(receiverId), k.dead(receiverId), k.receiversVersion, ...k.statsKeys];
    const args: (string | number)[] = [
      holder.fence.value,
      holder.fence.service,
      receiverId,
      this.disableAfterDeadMs,
      `failing: its deliveries kept ending dead for ${humanDuration(this.disableAfterDeadMs)}`,
      breaker.threshold,
      breaker.stepsMs.map(Math.round).join(','),
      frontier,
      (tatShiftMs ?? 0).toFixed(3),
      this.retentionMs,
    ];
    for (const { delivery, attempt, outcome, lane } of records) {
      const message = k.message(delivery.messageId);
      keys.push(message, delivery.idempotency ? k.idempotency(delivery.idempotency.key) : message);
      const failed = outcome.kind === 'failed' ? outcome : undefined;
      args.push(
        delivery.messageId,
        delivery.seq,
        delivery.attempt - 1,
        delivery.failures,
        delivery.retry ? 'r' : 'f',
        JSON.stringify(attempt),
        outcome.kind,
        Math.round(failed?.retryInMs ?? 0),
        failed?.final ? '1' : '0',
        Math.round(failed?.holdMs ?? 0),
        lane ? `${lane.service}|${lane.value}` : '',
        delivery.idempotency?.key ?? '',
        delivery.idempotency?.untilMs ?? 0,
      );
    }
    return [keys.length, ...keys, ...args];
  }
}

/** A batch from a single sender, whose attempts end in the order they were claimed: the frontier follows its last first attempt. */
function inOrder(records: AttemptRecord[]): AttemptBatch {
  return { records, frontier: Math.max(0, ...records.filter(({ delivery }) => !delivery.retry).map(({ delivery }) => delivery.seq)) };
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
