import type { Keys } from './keys.js';
import { storePipeline, type StoreRedis } from './scripts.js';
import type { Attempt } from './types.js';

/** Where a receiver's queue stands when its lock holder asks for the next delivery. */
export type Claim =
  | { kind: 'gone' | 'disabled' | 'empty' }
  /** A newer lock holder has been seen (`maxFence`, when the store said which): give the receiver up. */
  | { kind: 'fenced'; maxFence?: number }
  /** Nothing due for `inMs` more, on Redis's clock: a duration, since each process's own clock may be off. */
  | { kind: 'wait'; inMs: number }
  | { kind: 'send'; delivery: ClaimedDelivery };

/**
 * A lock holder's fencing token. `service` names the lock service that issued it: fences of
 * different services are unrelated numbers, so the store keeps one high-water mark per service.
 */
export interface Fence {
  service: string;
  value: number;
}

export interface ClaimedDelivery {
  receiverId: string;
  messageId: string;
  /** The number this attempt will have in the history (1 for the first). */
  attempt: number;
  /** Failed attempts so far: where the delivery stands on the retry schedule. */
  failures: number;
  /** Consecutive failed attempts of the receiver as a whole. */
  receiverFailStreak: number;
  receiver: { url: string; secret: string; headers: Record<string, string>; timeoutMs: number };
  eventType: string;
  payloadJson: string;
  createdAt: string;
  claim: string;
  /** The claimer's fence: its completion is refused if a newer holder has been seen since. */
  fence: Fence;
}

export type Outcome = { kind: 'delivered' } | { kind: 'gone' } | { kind: 'aborted' } | { kind: 'failed'; retryInMs: number; final: boolean };

/** How far past the head of the queue a claim looks for a due delivery (retries wait in place). */
const LOOK_AHEAD = 32;

/** The emitter's side of the store: claim the next due delivery of a held receiver, record attempts. */
export class DeliveryStore {
  constructor(
    private readonly redis: StoreRedis,
    private readonly keys: Keys,
    /** A receiver whose deliveries keep ending dead this long (no success between) is disabled. */
    private readonly disableAfterDeadMs: number,
  ) {}

  /**
   * Claims the next due delivery for the holder of the receiver's lock. Refused ('fenced') when a
   * holder with a higher fence has claimed or completed since: this holder has lost the lock.
   */
  async claim(receiverId: string, claim: string, fence: Fence): Promise<Claim> {
    const reply = await this.redis.claimDelivery(...this.claimArgs(receiverId, claim, fence));
    return parseClaim(receiverId, claim, fence, reply);
  }

  /**
   * Records the attempt and moves the delivery on. With `claimNext`, the next claim rides in the
   * same round trip (a pipeline), so a busy receiver costs one Redis round trip per delivery.
   * Returns the delivery's new status ('fenced' when a newer lock holder has been seen, 'stale'
   * when the claim was no longer ours) and the next claim (made with the same fence).
   */
  async complete(delivery: ClaimedDelivery, attempt: Attempt, outcome: Outcome, claimNext?: string): Promise<{ status: string; next?: Claim }> {
    const k = this.keys;
    const { receiverId, messageId } = delivery;
    const pipeline = storePipeline(this.redis);
    pipeline.completeDelivery(
      k.receiver(receiverId), k.queue(receiverId), k.deliveries(messageId), k.attempts(messageId), k.dead(receiverId), k.receiversVersion,
      receiverId, messageId, delivery.claim, delivery.fence.value, delivery.fence.service, JSON.stringify({ receiverId, ...attempt }), outcome.kind,
      outcome.kind === 'failed' ? Math.round(outcome.retryInMs) : 0, outcome.kind === 'failed' && outcome.final ? '1' : '0',
      this.disableAfterDeadMs, `failing: its deliveries kept ending dead for ${humanDuration(this.disableAfterDeadMs)}`,
    );
    if (claimNext) pipeline.claimDelivery(...this.claimArgs(receiverId, claimNext, delivery.fence));
    const replies = (await pipeline.exec()) ?? [];
    for (const [error] of replies) if (error) throw error;
    const status = replies[0]?.[1] as string;
    return claimNext ? { status, next: parseClaim(receiverId, claimNext, delivery.fence, replies[1]?.[1] as string[]) } : { status };
  }

  private claimArgs(receiverId: string, claim: string, fence: Fence): Parameters<StoreRedis['claimDelivery']> {
    return [this.keys.receiver(receiverId), this.keys.queue(receiverId), claim, fence.value, fence.service, this.keys.prefix, receiverId, LOOK_AHEAD];
  }
}

function humanDuration(ms: number): string {
  const units: [number, string][] = [[86_400_000, 'day'], [3_600_000, 'hour'], [60_000, 'minute'], [1000, 'second']];
  const [size, name] = units.find(([unit]) => ms >= unit) ?? [1, 'millisecond'];
  const count = Math.round(ms / size);
  return `${count} ${name}${count === 1 ? '' : 's'}`;
}

function parseClaim(receiverId: string, claim: string, fence: Fence, reply: string[]): Claim {
  const [kind, ...rest] = reply;
  if (kind === 'wait') return { kind, inMs: Number(rest[0]) };
  if (kind === 'fenced') return { kind, maxFence: Number(rest[0]) };
  if (kind !== 'send') return { kind: kind as 'gone' | 'disabled' | 'empty' };
  const [messageId, attempt, failures, failStreak, config, eventType, payloadJson, createdAt] = rest as string[];
  const { url, secret, headers, timeoutMs } = JSON.parse(config as string) as ClaimedDelivery['receiver'];
  return {
    kind,
    delivery: {
      receiverId, messageId: messageId as string, attempt: Number(attempt), failures: Number(failures), receiverFailStreak: Number(failStreak),
      receiver: { url, secret, headers, timeoutMs }, eventType: eventType as string, payloadJson: payloadJson as string, createdAt: createdAt as string, claim, fence,
    },
  };
}
