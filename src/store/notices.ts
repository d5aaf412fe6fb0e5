import { connectRedis, type RedisClient, type RedisTarget } from '../redis.js';

/**
 * Receiver ids heard on one pub/sub channel, on a subscriber connection of its own, as readings of
 * a clock: `stamp()` before asking the store something, then `since(receiverId, stamp)` says
 * whether a notice for the receiver (or a resubscription, after which anything may have been
 * missed) came after it; `wait` resolves at the next one. Nothing but Map lookups on the hot path.
 * Notices sent while not subscribed are lost, so `listening` is false meanwhile.
 */
export class ChannelNotices {
  /** Counts notices and subscriptions: stamps are readings of it. */
  private clock = 0;
  /** The clock at each receiver's last notice: bounded by the receivers noticed while running. */
  private readonly lastNotice = new Map<string, number>();
  private readonly waiters = new Map<string, Set<() => void>>();
  private subscribedAt = Number.POSITIVE_INFINITY;
  private readonly redis: RedisClient;

  constructor(target: RedisTarget, channel: string) {
    this.redis = connectRedis(target);
    this.redis.on('error', () => {}); // a lost subscriber shows as `listening` false
    this.redis.on('message', (_channel: string, receiverId: string) => this.notice(receiverId));
    this.redis.on('close', () => (this.subscribedAt = Number.POSITIVE_INFINITY));
    // on every (re)connect: subscribed only once Redis confirms it, so no notice after this moment is missed
    this.redis.on('ready', () => {
      this.redis.subscribe(channel).then(
        () => {
          if (this.redis.status === 'ready') this.subscribedAt = ++this.clock;
        },
        () => {},
      );
    });
  }

  /** Whether notices are being heard. */
  get listening(): boolean {
    return this.subscribedAt !== Number.POSITIVE_INFINITY;
  }

  stamp(): number {
    return this.clock;
  }

  /** A notice for the receiver, or a (re)subscription, came after `stamp` was taken. */
  since(receiverId: string, stamp: number): boolean {
    return this.subscribedAt > stamp || (this.lastNotice.get(receiverId) ?? 0) > stamp;
  }

  /** Resolves true at the receiver's next notice, false after `ms` or once `signal` aborts. */
  wait(receiverId: string, ms: number, signal: AbortSignal): Promise<boolean> {
    return new Promise((resolve) => {
      const waiting = this.waiters.get(receiverId) ?? new Set<() => void>();
      this.waiters.set(receiverId, waiting);
      const end = (heard: boolean): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', aborted);
        waiting.delete(wake);
        if (waiting.size === 0) this.waiters.delete(receiverId);
        resolve(heard);
      };
      const wake = (): void => end(true);
      const aborted = (): void => end(false);
      const timer = setTimeout(aborted, ms);
      if (signal.aborted) return aborted();
      signal.addEventListener('abort', aborted, { once: true });
      waiting.add(wake);
    });
  }

  close(): void {
    this.redis.disconnect();
  }

  private notice(receiverId: string): void {
    this.lastNotice.set(receiverId, ++this.clock);
    for (const wake of this.waiters.get(receiverId) ?? []) wake();
  }
}
