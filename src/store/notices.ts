import { connectRedis, type RedisClient, type RedisTarget } from '../redis.js';

/**
 * Receiver ids heard on one pub/sub channel, on a subscriber connection of its own, as readings of
 * a clock: `stamp()` before asking the store something, then `since(receiverId, stamp)` says
 * whether a notice for the receiver (or a resubscription, after which anything may have been
 * missed) came after it; `wait` resolves at the next one, `tally` counts them. Nothing but Map
 * lookups on the hot path. Notices sent while not subscribed are lost, so `listening` is false
 * meanwhile. A notice is `<id>` or `<id> <token>`: the token, when there is one, goes to
 * `options.heard` once the notice is taken in (a config change's answer waits for it: notice-confirmations.ts).
 */
export class ChannelNotices {
  /** Counts notices and subscriptions: stamps are readings of it. */
  private clock = 0;
  /** The clock at each receiver's last notice: bounded by the receivers noticed while running. */
  private readonly lastNotice = new Map<string, number>();
  private readonly waiters = new Map<string, Set<() => void>>();
  private subscribedAt = Number.POSITIVE_INFINITY;
  /** Called at each subscription. */
  private readonly onSubscribed = new Set<() => void>();
  private readonly redis: RedisClient;

  constructor(
    target: RedisTarget,
    channel: string,
    private readonly options: {
      /** Gets each notice's token once the notice is taken in. */
      heard?: (token: string) => void;
      /** false: only `wait` and `tally` are used, so no id's last notice is kept (ids never repeat). */
      stamped?: boolean;
    } = {},
  ) {
    this.redis = connectRedis(target);
    this.redis.on('error', () => {}); // a lost subscriber shows as `listening` false
    this.redis.on('message', (_channel: string, message: string) => this.notice(message));
    this.redis.on('close', () => (this.subscribedAt = Number.POSITIVE_INFINITY));
    // on every (re)connect: subscribed only once Redis confirms it, so no notice after this moment is missed
    this.redis.on('ready', () => {
      this.redis.subscribe(channel).then(
        () => {
          if (this.redis.status !== 'ready') return;
          this.subscribedAt = ++this.clock;
          for (const subscribed of this.onSubscribed) subscribed();
        },
        () => {},
      );
    });
  }

  /** Resolves whether notices are heard, at once or within `ms`. */
  whenListening(ms: number): Promise<boolean> {
    if (this.listening) return Promise.resolve(true);
    return new Promise((resolve) => {
      const end = (): void => {
        clearTimeout(timer);
        this.onSubscribed.delete(end);
        resolve(this.listening);
      };
      const timer = setTimeout(end, ms);
      this.onSubscribed.add(end);
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
      const end = (heard: boolean): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', aborted);
        stopListening();
        resolve(heard);
      };
      const stopListening = this.listen(receiverId, () => end(true));
      const aborted = (): void => end(false);
      const timer = setTimeout(aborted, ms);
      if (signal.aborted) return aborted();
      signal.addEventListener('abort', aborted, { once: true });
    });
  }

  /**
   * Counts the notices of `id` from now on: `until(n, ms)` resolves with the count once it reaches
   * `n`, or after `ms`, and stops counting; `stop()` stops it without waiting. Call one of them
   * once, or the counter stays registered.
   */
  tally(id: string): { until(n: number, ms: number): Promise<number>; stop(): void } {
    let count = 0;
    let reached = (): void => {};
    const stopListening = this.listen(id, () => {
      count++;
      reached();
    });
    return {
      until: (n, ms) =>
        new Promise((resolve) => {
          const end = (): void => {
            clearTimeout(timer);
            stopListening();
            resolve(count);
          };
          const timer = setTimeout(end, ms);
          reached = () => count >= n && end();
          reached();
        }),
      stop: stopListening,
    };
  }

  close(): void {
    this.redis.disconnect();
  }

  /** Calls `wake` at each notice of `id` until the returned function is called. */
  private listen(id: string, wake: () => void): () => void {
    const waiting = this.waiters.get(id) ?? new Set<() => void>();
    this.waiters.set(id, waiting);
    waiting.add(wake);
    return () => {
      waiting.delete(wake);
      if (waiting.size === 0) this.waiters.delete(id);
    };
  }

  private notice(message: string): void {
    const space = message.indexOf(' ');
    const id = space < 0 ? message : message.slice(0, space);
    if (this.options.stamped !== false) this.lastNotice.set(id, ++this.clock);
    for (const wake of this.waiters.get(id) ?? []) wake();
    if (space >= 0) this.options.heard?.(message.slice(space + 1));
  }
}
