import type { AddressGuard } from '../delivery/address-guard.js';
import { badField, notFound } from '../errors.js';
import type { ReceiverLocks } from '../locks/types.js';
import type { Logger } from '../logger.js';
import type { CreateReceiver, PatchReceiver } from '../shapes/receivers.js';
import type { ReceiverSecret, RotatedSecret, RotateSecret } from '../shapes/signing.js';
import type { DeadLetterPage, ReceiverPage, ReceiverView, Store } from '../store/index.js';
import type { DomainLog } from './log.js';
import type { OperationalEvents } from './operational-events.js';
import { checkFlowControl, checkReceiverFields, checkReceiverInput } from './receiver-input.js';
import { DeleteQueue, deleteUnderLock } from './receiver-delete.js';
import { unmaskHeaders } from './receiver-view.js';
import { ADMIN, tenantFor, type Principal } from './scopes.js';
import { unknownTenant } from './tenants.js';
import { receiverSecret, rotateKey, signingSettings, warnUnconfirmed } from './signing.js';

export interface ReceiversOptions {
  store: Store;
  locks: ReceiverLocks;
  guard: AddressGuard;
  /** A new receiver's `timeoutMs` when it sets none. */
  defaultTimeoutMs: number;
  /** Where a receiver's creation, change and deletion are published (`lockstep.receiver.created`…). */
  events: OperationalEvents;
  log: Logger;
}

export const sinceWithMessageIds = () => badField('since', 'cannot be combined with messageIds; send one of them');

/**
 * The rules of receivers, whoever asks (API routes today, the CLI or another route tomorrow):
 * input checked beyond its schema before anything is stored, defaults filled in, the queue woken
 * when a change lets it deliver again, deletion under the receiver's lock. Failures are
 * LockstepErrors naming the field or the receiver.
 */
export class Receivers {
  private readonly deletes = new DeleteQueue();

  constructor(private readonly options: ReceiversOptions) {}

  /** Registers a receiver; one a tenant token creates belongs to its tenant. */
  async create(input: CreateReceiver, log: DomainLog = this.options.log, principal: Principal = ADMIN): Promise<ReceiverView> {
    const { store, guard, defaultTimeoutMs } = this.options;
    const tenantId = tenantFor(principal, input.tenantId);
    const body = checkReceiverInput(input, guard);
    checkFlowControl(body);
    const receiver = await store.receivers.create(
      {
        url: body.url,
        eventTypes: body.eventTypes ?? [],
        ...signingSettings(body),
        description: body.description ?? '',
        headers: body.headers ?? {},
        timeoutMs: body.timeoutMs ?? defaultTimeoutMs,
        enabled: body.enabled ?? true,
        ordering: body.ordering ?? 'unordered',
        maxInFlight: body.maxInFlight ?? 1,
        rateLimitBurst: body.rateLimitBurst ?? 1,
        ...(body.rateLimitPerSecond === undefined ? {} : { rateLimitPerSecond: body.rateLimitPerSecond }),
        ...(body.retrySchedule === undefined ? {} : { retrySchedule: body.retrySchedule }),
      },
      tenantId,
    );
    if (!receiver) throw unknownTenant('tenantId', tenantId ?? '');
    log.info({ receiverId: receiver.id, tenantId }, 'receiver registered');
    await this.options.events.receiverChanged(receiver, { kind: 'created', by: principal });
    return receiver;
  }

  /** A page of every receiver, or of one tenant's (a tenant token sees only its own). */
  list(limit: number, cursor: string | undefined, tenantId?: string, principal?: Principal): Promise<ReceiverPage> {
    return this.options.store.receivers.list(limit, cursor, tenantFor(principal, tenantId));
  }

  /** The receiver, or a not-found LockstepError. */
  async get(id: string): Promise<ReceiverView> {
    return (await this.options.store.receivers.get(id)) ?? Promise.reject(notFound(`receiver ${id}`));
  }

  async secret(id: string, log: DomainLog = this.options.log): Promise<ReceiverSecret> {
    const secret = receiverSecret(await this.get(id));
    log.info({ receiverId: id }, 'receiver secret read');
    return secret;
  }

  /** A new signing key; the current one keeps signing beside it for the overlap. Reported as an update of `secret`. */
  async rotateSecret(id: string, input: RotateSecret, log: DomainLog = this.options.log, principal: Principal = ADMIN): Promise<RotatedSecret> {
    const receiver = await this.get(id);
    const rotated = await rotateKey(this.options.store, receiver, input, log);
    await this.options.events.receiverChanged(receiver, { kind: 'updated', changed: ['secret'], by: principal });
    return rotated;
  }

  /** Changes the given fields; a masked header value keeps the stored one; enabling wakes its queue. */
  async update(id: string, input: PatchReceiver, log: DomainLog = this.options.log, principal: Principal = ADMIN): Promise<ReceiverView> {
    const { store, guard } = this.options;
    const body = input.headers ? { ...input, headers: unmaskHeaders(input.headers, (await this.get(id)).headers) } : input;
    const patch = body.url === undefined ? checkReceiverFields(body) : checkReceiverInput({ ...body, url: body.url }, guard);
    if (patch.ordering === 'strict' || (patch.maxInFlight ?? 1) > 1) checkFlowControl(patch, await this.get(id));
    const signing =
      patch.secret !== undefined || patch.signatureScheme !== undefined ? signingSettings(patch, (await this.get(id)).signatureScheme) : undefined;
    const updated = await store.receivers.update(id, { ...patch, ...signing });
    if (!updated) throw notFound(`receiver ${id}`);
    if (updated.enabledNow) await store.drains.wake([id]);
    log.info({ receiverId: id, fields: Object.keys(patch) }, 'receiver updated');
    warnUnconfirmed(log, id, updated.unconfirmed);
    await this.options.events.receiverChanged(updated.receiver, { kind: 'updated', changed: Object.keys(patch), by: principal });
    return updated.receiver;
  }

  /** Deletes under the receiver's lock: once this returns, nothing is being sent to it and nothing will be. */
  async delete(id: string, principal: Principal = ADMIN, log: DomainLog = this.options.log): Promise<void> {
    const { store, locks, events } = this.options;
    const removed = await this.deletes.run(id, () => deleteUnderLock(store, locks, log, id));
    await events.receiverChanged(removed, { kind: 'deleted', by: principal });
  }

  async deadLetters(id: string, limit: number, cursor: string | undefined): Promise<DeadLetterPage> {
    await this.get(id);
    return this.options.store.deadLetters.list(id, limit, cursor);
  }

  /** Re-queues dead deliveries (all, those dead since a time, or the listed messages) and wakes the queue; returns how many. */
  async replay(id: string, filter: { since?: string; messageIds?: string[] }, log: DomainLog = this.options.log): Promise<number> {
    const { store } = this.options;
    const { since, messageIds } = filter;
    if (since !== undefined && messageIds !== undefined) throw sinceWithMessageIds();
    await this.get(id);
    const count = await store.receivers.replayDead(id, { ...(since ? { since: new Date(since) } : {}), ...(messageIds ? { messageIds } : {}) });
    if (count > 0) await store.drains.wake([id]);
    log.info({ receiverId: id, count }, 'dead deliveries replayed');
    return count;
  }
}
