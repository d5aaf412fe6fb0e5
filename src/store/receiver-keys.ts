import type { ReplicaBarrier } from '../redis-replicas.js';
import { swapConfig } from './config-swap.js';
import type { Keys } from './keys.js';
import type { NoticeConfirmations } from './notice-confirmations.js';
import type { StoreRedis } from './scripts.js';
import type { ReceiverSettings } from './types.js';

/** The signing fields of a stored receiver config. */
type SigningConfig = Pick<ReceiverSettings, 'secret' | 'signatureScheme'> & { previousSecret?: string; updatedAt: string };

/** `unconfirmed`: emitters that heard the rotation but did not confirm taking it in (notice-confirmations.ts). */
export type Rotation = { kind: 'gone' } | { kind: 'rotated'; previousSecretUntil: Date | null; unconfirmed: number };

/**
 * Key rotation of a receiver. The new key and the old one (`previousSecret`) live in the receiver's
 * `config`, which every claim reads (claim.lua); the swap's notice (notices.ts) ends windows
 * claimed before it, so each attempt is signed with the keys stored when it starts; the overlap's end is the hash field `previousSecretUntil` (Redis ms), which the
 * claim turns into "the previous key signs for n ms more" on Redis's clock.
 */
export class ReceiverKeys {
  constructor(
    private readonly redis: StoreRedis,
    private readonly keys: Keys,
    /** A rotation's answer waits for the replicas: a failover must not bring the old key back. */
    private readonly replicas: ReplicaBarrier,
    /** …and for the emitters to take it in: no request that starts after the answer has the old keys alone. */
    private readonly confirmations: NoticeConfirmations,
  ) {}

  /** Makes `secret` current and keeps the current key signing beside it for `overlapMs`. */
  async rotate(receiverId: string, next: Pick<ReceiverSettings, 'secret' | 'signatureScheme'>, overlapMs: number): Promise<Rotation> {
    const swap = await swapConfig(this.redis, this.keys, this.confirmations, receiverId, (read) => {
      const { previousSecret: _dropped, ...config } = JSON.parse(read) as SigningConfig;
      const rotated: SigningConfig = {
        ...config,
        ...next,
        ...(overlapMs > 0 ? { previousSecret: config.secret } : {}),
        updatedAt: new Date().toISOString(),
      };
      return { config: JSON.stringify(rotated), overlapMs };
    });
    if (swap.kind === 'gone') return swap;
    await this.replicas.confirm();
    return { kind: 'rotated', previousSecretUntil: swap.previousSecretUntil, unconfirmed: swap.unconfirmed };
  }
}
