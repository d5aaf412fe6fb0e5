import { LockstepError } from '../errors.js';
import type { Keys } from './keys.js';
import type { NoticeConfirmations } from './notice-confirmations.js';
import { announceReceiverChange } from './receiver-version.js';
import type { StoreRedis } from './scripts.js';

/** What replaces a receiver's config, computed from the config as read. */
export interface ConfigChange {
  config: string;
  /** The previous key's overlap in ms from now (Redis's clock); 0 ends it; absent leaves it. */
  overlapMs?: number;
  /** Enable (clearing the reason, backoff, streak and breaker) or disable by operator; absent leaves it. */
  enabled?: boolean;
}

/** `unconfirmed`: emitters that heard the change but did not confirm taking it in (notice-confirmations.ts). */
export type Swap = { kind: 'gone' } | { kind: 'replaced'; previousSecretUntil: Date | null; wasEnabled: boolean; unconfirmed: number };

/** Each failed compare means another writer's change went in: with n writers at once, at most n reads (the bound is far above). */
const TRIES = 100;

/**
 * Read-modify-write of a receiver's `config`, compare and set (lua/replace-config.lua): `change`
 * gets the config as read; if another writer changed it meanwhile, it is read again and `change`
 * applied on top, so no PATCH overwrites a rotation and no rotation a PATCH. Answers once the
 * emitters have taken the change in (`confirmations`).
 */
export async function swapConfig(
  redis: StoreRedis,
  keys: Keys,
  confirmations: NoticeConfirmations,
  receiverId: string,
  change: (read: string) => ConfigChange,
): Promise<Swap> {
  const group = keys.of(receiverId);
  const key = group.receiver(receiverId);
  for (let tries = 0; tries < TRIES; tries++) {
    const read = await redis.hget(key, 'config');
    if (!read) return { kind: 'gone' };
    const { config, overlapMs, enabled } = change(read);
    const overlap = overlapMs === undefined ? '' : String(Math.max(0, Math.round(overlapMs)));
    const { result, unconfirmed } = await confirmations.around(
      receiverId,
      (notice) =>
        redis.replaceConfig(key, group.receiversVersion, read, config, overlap, enabled === undefined ? '' : enabled ? '1' : '0', keys.keysChanged, notice),
      ([, , , heard]) => Number(heard ?? 0),
    );
    const [kind, untilMs, wasEnabled] = result;
    if (kind === 'gone') return { kind };
    if (kind === 'replaced') await announceReceiverChange(redis, keys);
    if (kind === 'replaced')
      return { kind, previousSecretUntil: Number(untilMs) > 0 ? new Date(Number(untilMs)) : null, wasEnabled: wasEnabled === '1', unconfirmed };
  }
  // other writers won every try: nothing of ours was stored, and the client may simply send it again
  throw new LockstepError(
    'LOCKSTEP_CONFLICT',
    409,
    `receiver ${receiverId} kept changing while it was being updated: nothing was changed, send the request again`,
  );
}
