import { connectRedis, type RedisClient, type RedisTarget } from '../redis.js';

/**
 * What an emitter hears of receivers' config changes (a key rotation, a PATCH), so that a window
 * claimed before one stops before its next attempt and the next claim brings the new keys: one
 * subscriber connection to the channel replace-config.lua publishes each changed receiver's id on.
 *
 * `stamp()` is taken before a claim is sent; `changedSince(receiverId, stamp)` then says whether
 * the receiver's config may have changed after that claim read it. Nothing but a Map lookup: the
 * hot path makes no Redis call when nothing changed. Notices sent while the subscriber is not
 * subscribed are lost, so `listening` is false meanwhile, and once subscribed again every stamp
 * taken before counts as changed, once.
 */
export class KeyChanges {
  /** Counts notices and subscriptions: stamps are readings of it. */
  private clock = 0;
  /** The clock at each receiver's last notice. One entry per receiver ever changed while running: bounded by the receivers. */
  private readonly lastNotice = new Map<string, number>();
  private subscribedAt = Number.POSITIVE_INFINITY;
  private readonly redis: RedisClient;

  constructor(target: RedisTarget, channel: string) {
    this.redis = connectRedis(target);
    this.redis.on('error', () => {}); // a lost subscriber shows as `listening` false; the claims say the rest
    this.redis.on('message', (_channel: string, receiverId: string) => this.lastNotice.set(receiverId, ++this.clock));
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

  /** Whether notices are being heard; while not, any window may hold stale keys. */
  get listening(): boolean {
    return this.subscribedAt !== Number.POSITIVE_INFINITY;
  }

  stamp(): number {
    return this.clock;
  }

  /** A notice for the receiver, or a (re)subscription, came after `stamp` was taken. */
  changedSince(receiverId: string, stamp: number): boolean {
    return this.subscribedAt > stamp || (this.lastNotice.get(receiverId) ?? 0) > stamp;
  }

  close(): void {
    this.redis.disconnect();
  }
}
