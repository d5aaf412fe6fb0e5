import { as } from './batch.js';
import type { Keys } from './keys.js';
import type { ReceiverStore } from './receivers.js';
import type { StoreRedis } from './scripts.js';
import type { TurnPipeline } from './turn-pipeline.js';

/** One message to accept, as messages.ts lays it out for either path. */
export interface AcceptCall {
  id: string;
  eventType: string;
  /** JSON text. */
  payload: string;
  createdAt: string;
  /** 'match': receivers from the directory of `receiversVersion`; 'explicit': named by the producer. */
  mode: 'match' | 'explicit';
  receiversVersion: string;
  receiverIds: string[];
  idempotencyKey: string;
  /** Seconds; 0 = no key. */
  idempotencyTtl: number;
  traceparent: string;
  tenant: string;
  /** The first message id the indexes keep, when this accept trims them, else ''. */
  trimBound: string;
  catalogVersion: string;
}

/** What a message's home copy (keys.ts) holds of the message itself, as accept wrote it. */
export interface HomeCopy {
  eventType: string;
  payload: string;
  createdAt: string;
  receiverIds: string[];
  traceparent: string;
  tenant: string;
  /** The idempotency key's name ('' = none): only the home copy holds it. */
  idempotencyKey: string;
}

/** The message's home copy, or null when there is none (never accepted, or expired). */
export async function readHomeCopy(redis: StoreRedis, keys: Keys, id: string): Promise<HomeCopy | null> {
  const fields = await redis.hmget(keys.of(id).message(id), 'eventType', 'payload', 'createdAt', 'receiverIds', 'tp', 'tenant', 'idem');
  const [eventType, payload, createdAt, receiverIds, traceparent, tenant, idem] = fields;
  if (!eventType || !payload || !createdAt) return null;
  const rest = { traceparent: traceparent ?? '', tenant: tenant ?? '', idempotencyKey: idem ?? '' };
  return { eventType, payload, createdAt, receiverIds: receiverIds ? receiverIds.split(',') : [], ...rest };
}

/** A fan-out still in the intake set this long after its accept began is finished by the reconciler. */
export const UNFINISHED_AFTER_MS = 5000;

/**
 * Intake on a store with several shard groups (keys.ts), where a script reaches one group's slot:
 * the versions are checked first, then the home group's part (idempotency key, home copy, intake
 * set: lua/accept-home.lua), then every other group's copy at once (lua/accept-group.lua,
 * idempotent), then the home copy names the receivers and the message leaves the intake set
 * (lua/finish-intake.lua). The 202 goes out after that, so a 202 means every delivery is stored.
 * A fan-out cut short (a crash, Redis gone) is finished by a repeat of its idempotency key or by
 * the emitters' reconciler; until then the client had no 202, only a 503 or nothing: "maybe".
 * Replies are those of lua/accept.lua, so messages.ts treats both paths alike.
 */
export class ShardedIntake {
  constructor(
    private readonly redis: StoreRedis,
    private readonly keys: Keys,
    private readonly pipeline: TurnPipeline,
    private readonly receivers: ReceiverStore,
    private readonly retentionMs: number,
  ) {}

  async accept(call: AcceptCall): Promise<string[]> {
    const k = this.keys;
    // in the turn's pipeline of the plain prefix's slot, not a round trip of its own per message
    const [receiversVersion, catalogVersion] = await this.pipeline.add(k, (p) => p.mget(k.receiversVersion, k.eventTypesVersion), as.texts);
    if ((catalogVersion ?? '0') !== call.catalogVersion) return ['stale-catalog'];
    if (call.mode === 'match' && (receiversVersion ?? '0') !== call.receiversVersion) return ['stale'];
    if (call.mode === 'explicit') {
      // checked here, as the groups' scripts cannot refuse the whole message once another group has it
      const tenants = await this.receivers.tenantsOf(call.receiverIds);
      const unknown = call.receiverIds.find((id) => tenants.get(id) !== call.tenant);
      if (unknown !== undefined) return ['unknown-receiver', unknown];
    }
    const home = k.of(call.id);
    const groups = k.byGroup(call.receiverIds, home);
    const homeIds = groups.get(home) ?? [];
    const mode = call.mode === 'match' ? 'match' : 'lenient';
    const homeKeys = [
      home.idempotency(call.idempotencyKey),
      home.messageIndex,
      home.tenantMessages(call.tenant),
      home.intake,
      ...home.intakeKeys(call.id, homeIds),
    ];
    const reply = await this.pipeline.add(
      home,
      (p) =>
        p.acceptHome(
          homeKeys.length,
          ...homeKeys,
          ...[call.id, call.eventType, call.payload, call.createdAt, mode, call.idempotencyTtl, this.retentionMs, call.idempotencyKey, call.traceparent],
          ...[call.tenant, call.trimBound, k.work, call.receiverIds.join(','), groups.size > 1 ? '1' : '0', homeIds.length, ...homeIds],
        ),
      as.list,
    );
    if (reply[0] === 'duplicate') {
      if (reply[2] === '1') await this.finish(reply[1] as string);
      return reply.slice(0, 2);
    }
    if (groups.size === 1) return reply;
    const others = await this.acceptInOthers(
      call,
      [...groups].filter(([group]) => group !== home),
      mode,
    );
    const chosen = new Set([...reply.slice(3), ...others.flatMap((other) => other.slice(3))]);
    const receiverIds = call.receiverIds.filter((id) => chosen.has(id));
    await this.pipeline.add(home, (p) => p.finishIntake(home.message(call.id), home.intake, call.id, receiverIds.join(',')), as.count);
    const toWake = [reply[2], ...others.map((other) => other[2])].filter(Boolean).join(',');
    return ['accepted', call.id, toWake, ...receiverIds];
  }

  /** Finishes the fan-out of every message whose accept began more than `olderThanMs` ago and is still unfinished; how many. */
  async finishStale(olderThanMs = UNFINISHED_AFTER_MS): Promise<number> {
    const [seconds, micros] = await this.redis.time();
    const before = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000) - olderThanMs;
    let finished = 0;
    for (const group of this.keys.groupKeys) {
      for (const id of await this.redis.zrangebyscore(group.intake, '-inf', before, 'LIMIT', 0, 100)) {
        await this.finish(id);
        finished++;
      }
    }
    return finished;
  }

  /** Writes the copies a cut-short accept left unwritten (idempotent), then finishes it, from what its home copy holds. */
  private async finish(id: string): Promise<void> {
    const home = this.keys.of(id);
    const stored = await readHomeCopy(this.redis, this.keys, id);
    if (!stored) {
      await this.redis.zrem(home.intake, id); // expired meanwhile: nothing is left to finish
      return;
    }
    const meant = stored.receiverIds;
    const groups = [...this.keys.byGroup(meant)];
    const call = { id, ...stored };
    const others = await this.acceptInOthers(
      call,
      groups.filter(([group]) => group !== home),
      'lenient',
    );
    const homeIds = groups.find(([group]) => group === home)?.[1] ?? [];
    const inHome = homeIds.length > 0 ? await this.redis.hmget(home.message(id), ...homeIds.map((receiverId) => home.deliveryField(receiverId))) : [];
    const chosen = new Set([...homeIds.filter((_, i) => inHome[i] !== null), ...others.flatMap((other) => other.slice(3))]);
    await this.redis.finishIntake(home.message(id), home.intake, id, meant.filter((receiverId) => chosen.has(receiverId)).join(','));
  }

  /** Each other group's copy, all at once (lua/accept-group.lua); their replies. */
  private acceptInOthers(
    call: Pick<AcceptCall, 'id' | 'eventType' | 'payload' | 'createdAt' | 'traceparent' | 'tenant' | 'receiverIds'>,
    groups: [Keys, string[]][],
    mode: 'match' | 'lenient',
  ): Promise<string[][]> {
    return Promise.all(
      groups.map(([group, ids]) => {
        const keys = group.intakeKeys(call.id, ids);
        return this.pipeline.add(
          group,
          (p) =>
            p.acceptGroup(
              keys.length,
              ...keys,
              ...[call.id, call.eventType, call.payload, call.createdAt, mode, this.retentionMs, call.traceparent, call.tenant, this.keys.work],
              ...[call.receiverIds.join(','), ids.length, ...ids],
            ),
          as.list,
        );
      }),
    );
  }
}
