import type { ReplicaBarrier } from '../redis-replicas.js';
import { as } from './batch.js';
import type { Keys } from './keys.js';
import type { StoreRedis } from './scripts.js';

/** Receivers per script call (four keys each). */
const RECEIVERS_PER_CALL = 500;

export type PayloadDeletion =
  /** `cancelled`: the receivers whose unfinished delivery was cancelled by this call. */
  { kind: 'deleted'; deletedAt: string; cancelled: string[] } | { kind: 'not-found' };

/** The message's `payloadDeletedAt` as the API shows it, from the field a copy keeps (ms; absent while the payload is there). */
export function deletedAtOf(field: string | null | undefined): { payloadDeletedAt?: string } {
  return field ? { payloadDeletedAt: new Date(Number(field)).toISOString() } : {};
}

/**
 * Deletes a message's payload in every copy of it (lua/delete-payload.lua, per shard group, since a
 * script reaches one group's slot, in calls of at most RECEIVERS_PER_CALL receivers), the home copy
 * first, so that a resend that read the payload before finds it gone in its last call, which is the
 * home group's (messages.ts).
 */
export class PayloadEraser {
  constructor(
    private readonly redis: StoreRedis,
    private readonly keys: Keys,
    /** A message whose deliveries are all final is removed this long after (Redis expiry). */
    private readonly retentionMs: number,
    private readonly replicas: ReplicaBarrier,
  ) {}

  /** `alsoTo`: receivers not listed in the home copy yet (a resend cut short by this deletion). */
  async erase(id: string, alsoTo: readonly string[] = []): Promise<PayloadDeletion> {
    const home = this.keys.of(id);
    const [createdAt, receiverIds, idem] = await this.redis.hmget(home.message(id), 'createdAt', 'receiverIds', 'idem');
    if (!createdAt) return { kind: 'not-found' };
    const targets = new Set([...(receiverIds ? receiverIds.split(',') : []), ...alsoTo]);
    let deletedAt = '';
    const cancelled: string[] = [];
    for (const [group, all] of this.keys.byGroup(targets, home)) {
      const isHome = group === home;
      const idemKey = isHome && idem ? group.idempotency(idem) : group.message(id);
      // a wide fan-out in calls of a bounded size, so that no one script holds Redis for long
      for (let from = 0; from === 0 || from < all.length; from += RECEIVERS_PER_CALL) {
        const ids = all.slice(from, from + RECEIVERS_PER_CALL);
        const keys = [idemKey, ...group.copyKeys(id), ...ids.flatMap((r) => [group.receiver(r), group.queue(r), group.retries(r), group.dead(r)])];
        // every copy records the home copy's time (the home group goes first)
        const args = [id, this.retentionMs, isHome ? (idem ?? '') : '', deletedAt, ids.length, ...ids];
        const [kind, at, ...rest] = as.mixed(await this.redis.deletePayload(keys.length, ...keys, ...args));
        // a group without a copy had no delivery (accept makes none there); the home copy always has one
        if (kind === 'not-found') {
          if (isHome) return { kind };
          break;
        }
        deletedAt = String(at);
        cancelled.push(...rest.map(String));
      }
    }
    await this.replicas.confirm();
    return { kind: 'deleted', deletedAt: deletedAtOf(deletedAt).payloadDeletedAt ?? '', cancelled };
  }
}
