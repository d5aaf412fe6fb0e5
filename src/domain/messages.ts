import { badField, LockstepError, notFound } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/index.js';
import type { MessageListQuery, MessageSummary } from '../shapes/message-list.js';
import type { AcceptedMessage, Message, NewMessage } from '../shapes/messages.js';
import { TEST_EVENT_MESSAGE, TEST_EVENT_TYPE, type TestEvent } from '../shapes/operational-events.js';
import type { AcceptResult, NewMessage as StoredNewMessage } from '../store/messages.js';
import type { Page, Store } from '../store/index.js';
import { batchCut, batchMessageKey } from './batch.js';
import { scheduleDrains } from './drain-scheduling.js';
import type { EventTypes } from './event-types.js';
import type { DomainLog } from './log.js';
import { hasOwnPrefix, reservedEventType, reservedIdempotencyKey } from './own-events.js';
import { checkPayloadDepth } from './payload-depth.js';
import { tenantFor, type Principal } from './scopes.js';
import { unknownTenant } from './tenants.js';

/** The wire shape and the store's input are one shape: this fails to compile the day they part. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
const sameNewMessage: Same<NewMessage, StoredNewMessage> = true;
void sameNewMessage;

export interface MessagesOptions {
  store: Store;
  /** The catalog every payload is checked against before it is stored. */
  eventTypes: EventTypes;
  metrics: Metrics;
  log: Logger;
}

/**
 * An explicit receiver id that names no receiver (of the message's tenant, or without one when it has
 * none); `field` says where in the body it was.
 */
export const unknownReceiver = (field: string, receiverId: string, tenantId?: string) =>
  badField(field, `names no receiver (${receiverId})${tenantId === undefined ? '' : ` of tenant ${tenantId}`}`, 422);

export type Accepted = { message: AcceptedMessage; duplicate: boolean };

/**
 * The rules of messages, whoever asks: a payload receivers can parse, one idempotency key,
 * receivers named explicitly must exist, every stored message counted and its receivers' queues
 * woken; resend and read. Failures are LockstepErrors naming the field.
 */
export class Messages {
  constructor(private readonly options: MessagesOptions) {}

  /**
   * Stores one message (or finds the earlier one with its idempotency key); `headerKey` is the
   * Idempotency-Key header, `traceparent` the trace context its delivery attempts continue.
   */
  async accept(input: NewMessage, headerKey: string | undefined, log: DomainLog = this.options.log, traceparent?: string): Promise<Accepted> {
    if (hasOwnPrefix(input.eventType)) throw reservedEventType('eventType', input.eventType);
    const idempotencyKey = oneKey(headerKey, input.idempotencyKey);
    if (hasOwnPrefix(idempotencyKey ?? '')) throw reservedIdempotencyKey(headerKey ? 'Idempotency-Key' : 'idempotencyKey');
    return this.acceptAny(input, idempotencyKey, log, traceparent);
  }

  /** Lockstep's own events (own-events.ts), which producers may not send: stored as a producer's message would be. */
  acceptOwn(input: NewMessage, log: DomainLog = this.options.log): Promise<Accepted> {
    return this.acceptAny(input, input.idempotencyKey, log);
  }

  /** `idempotencyKey`: the one the header and the body agree on. */
  private async acceptAny(input: NewMessage, idempotencyKey: string | undefined, log: DomainLog, traceparent?: string): Promise<Accepted> {
    const { store, metrics } = this.options;
    checkPayloadDepth(input.payload, 'payload');
    if (input.tenantId !== undefined) await this.refuseUnknownTenants([input], () => 'tenantId');
    const { eventType, payload, receiverIds, tenantId } = input;
    const [result] = await this.checkedAccept([{ eventType, payload, receiverIds, idempotencyKey, tenantId }], () => '', traceparent);
    if (!result || result.kind === 'stale-catalog') throw catalogChanging();
    if (result.kind === 'unknown-receiver') {
      throw unknownReceiver(`receiverIds[${input.receiverIds?.indexOf(result.receiverId)}]`, result.receiverId, tenantId);
    }
    if (result.kind === 'duplicate') return { message: result.message, duplicate: true };
    metrics.messagesAccepted(1);
    await scheduleDrains(store, log, result.toWake);
    return { message: result.message, duplicate: false };
  }

  /**
   * Stores a batch, each message atomically; `batchKey` (the Idempotency-Key header) covers every
   * message without a key of its own. Answers in order. A receiver deleted while the batch was being
   * stored refuses the messages naming it: a 409 says which were stored, thrown after those were
   * counted and their queues woken.
   */
  async acceptBatch(messages: NewMessage[], batchKey: string | undefined, log: DomainLog = this.options.log, traceparent?: string): Promise<Accepted[]> {
    const { store, metrics } = this.options;
    for (const [index, message] of messages.entries()) {
      if (hasOwnPrefix(message.eventType)) throw reservedEventType(`messages[${index}].eventType`, message.eventType);
      if (hasOwnPrefix(message.idempotencyKey ?? '')) throw reservedIdempotencyKey(`messages[${index}].idempotencyKey`);
      checkPayloadDepth(message.payload, `messages[${index}].payload`);
    }
    await this.refuseUnknownTenants(messages, (index) => `messages[${index}].tenantId`);
    // checked before anything is stored (a refused batch stores nothing); checked again only if the catalog changes before the accept
    const at = (index: number): string => `messages[${index}].`;
    const checkedWith = await this.options.eventTypes.checkPayloads(messages.map(({ eventType, payload }, index) => ({ eventType, payload, at: at(index) })));
    await this.refuseUnknownReceivers(messages);
    const results = await this.checkedAccept(
      batchKey === undefined
        ? messages
        : messages.map((message, index) => ({ ...message, idempotencyKey: message.idempotencyKey ?? batchMessageKey(batchKey, index) })),
      at,
      traceparent,
      checkedWith,
    );
    if (results.some((result) => result.kind === 'stale-catalog')) throw catalogChanging();
    // What was stored is counted and drained even when part of the batch was refused.
    metrics.messagesAccepted(results.filter((result) => result.kind === 'accepted').length);
    await scheduleDrains(
      store,
      log,
      results.flatMap((result) => (result.kind === 'accepted' ? result.toWake : [])),
    );
    const cut = batchCut(results, batchKey !== undefined);
    if (cut) throw cut;
    return results.flatMap((result) =>
      result.kind === 'unknown-receiver' || result.kind === 'stale-catalog' ? [] : [{ message: result.message, duplicate: result.kind === 'duplicate' }],
    );
  }

  /**
   * Checks the payloads against the catalog this process holds (unless `checkedWith` says the caller
   * just did, with that catalog version) and stores them; a message whose accept found the catalog
   * written since is checked again with a fresh read and sent again.
   */
  private async checkedAccept(
    inputs: NewMessage[],
    at: (index: number) => string,
    traceparent: string | undefined,
    checkedWith?: string,
  ): Promise<AcceptResult[]> {
    const { eventTypes, store } = this.options;
    const results: AcceptResult[] = [];
    let pending = inputs.map((_, index) => index);
    for (let round = 0; round < CATALOG_ROUNDS && pending.length > 0; round++) {
      if (round > 0) eventTypes.forget();
      const chosen = pending.map((index) => inputs[index] as NewMessage);
      const version =
        round === 0 && checkedWith !== undefined
          ? checkedWith
          : await eventTypes.checkPayloads(chosen.map(({ eventType, payload }, n) => ({ eventType, payload, at: at(pending[n] ?? 0) })));
      const replies = await store.messages.acceptMany(chosen, version, traceparent);
      for (const [n, reply] of replies.entries()) results[pending[n] ?? 0] = reply;
      pending = pending.filter((_, n) => replies[n]?.kind === 'stale-catalog');
    }
    return results;
  }

  /** Messages newest first; a tenant token sees only its own tenant's. */
  list(query: MessageListQuery, principal?: Principal): Promise<Page<MessageSummary>> {
    const { tenantId, eventType, receiverId, status, since, until, cursor, limit } = query;
    return this.options.store.messageIndex.list({
      tenantId: tenantFor(principal, tenantId),
      ...(eventType === undefined ? {} : { eventType }),
      ...(receiverId === undefined ? {} : { receiverId }),
      ...(status === undefined ? {} : { status }),
      ...(since === undefined ? {} : { since: new Date(since) }),
      ...(until === undefined ? {} : { until: new Date(until) }),
      ...(cursor === undefined ? {} : { cursor }),
      limit: Number(limit ?? 50),
    });
  }

  /** Sends one `lockstep.test` event to this receiver only (whatever its event types), as its tenant's. */
  async sendTest(receiverId: string, log: DomainLog = this.options.log): Promise<AcceptedMessage> {
    const receiver = await this.options.store.receivers.get(receiverId);
    if (!receiver) throw notFound(`receiver ${receiverId}`);
    const payload: TestEvent = { message: TEST_EVENT_MESSAGE, receiverId, sentAt: new Date().toISOString() };
    const input = { eventType: TEST_EVENT_TYPE, payload, receiverIds: [receiverId], ...(receiver.tenantId ? { tenantId: receiver.tenantId } : {}) };
    const { message } = await this.acceptOwn(input, log);
    return message;
  }

  async get(id: string): Promise<Message> {
    return (await this.options.store.messages.get(id)) ?? Promise.reject(notFound(`message ${id}`));
  }

  /** A new delivery of a stored message to each receiver (default: the receivers it went to). */
  async resend(id: string, receiverIds: string[] | undefined, log: DomainLog = this.options.log): Promise<AcceptedMessage> {
    const { store } = this.options;
    const result = await store.messages.resend(id, receiverIds);
    if (result.kind === 'not-found') throw notFound(`message ${id}`);
    if (result.kind === 'payload-deleted') throw payloadDeleted(id);
    if (result.kind === 'unknown-receiver') throw unknownReceiver(`receiverIds[${receiverIds?.indexOf(result.receiverId)}]`, result.receiverId);
    await scheduleDrains(store, log, result.message.receiverIds);
    return result.message;
  }

  /**
   * Deletes a message's payload (one sent by mistake: personal data, a secret). Its unfinished
   * deliveries are cancelled and it can never be resent or replayed; its type, time and attempts stay.
   */
  async deletePayload(id: string, log: DomainLog = this.options.log): Promise<void> {
    const result = await this.options.store.messages.deletePayload(id);
    if (result.kind === 'not-found') throw notFound(`message ${id}`);
    log.info({ messageId: id, cancelled: result.cancelled.length, payloadDeletedAt: result.deletedAt }, 'message payload deleted');
    // a strict receiver's queue may have waited behind a retry now cancelled: its next turn is now
    await scheduleDrains(this.options.store, log, result.cancelled, { now: true });
  }

  /**
   * A batch naming a receiver that does not exist (or is not of the message's tenant) is refused
   * whole, before anything is stored.
   */
  private async refuseUnknownReceivers(messages: NewMessage[]): Promise<void> {
    const named = [...new Set(messages.flatMap((message) => message.receiverIds ?? []))];
    const tenants = await this.options.store.receivers.tenantsOf(named);
    for (const [index, message] of messages.entries()) {
      const unknownId = (message.receiverIds ?? []).find((id) => tenants.get(id) !== (message.tenantId ?? ''));
      if (unknownId !== undefined)
        throw unknownReceiver(`messages[${index}].receiverIds[${message.receiverIds?.indexOf(unknownId)}]`, unknownId, message.tenantId);
    }
  }

  /** A message for a tenant that does not exist is refused (422), before anything is stored. */
  private async refuseUnknownTenants(messages: NewMessage[], field: (index: number) => string): Promise<void> {
    const named = [...new Set(messages.flatMap((message) => (message.tenantId === undefined ? [] : [message.tenantId])))];
    if (named.length === 0) return;
    const existing = await this.options.store.tenants.exists(named);
    const index = messages.findIndex((message) => message.tenantId !== undefined && !existing.has(message.tenantId));
    if (index >= 0) throw unknownTenant(field(index), messages[index]?.tenantId ?? '');
  }
}

/** Accept rounds against a catalog written meanwhile before giving up (catalog writes are rare: one more is plenty). */
const CATALOG_ROUNDS = 5;

const catalogChanging = (): LockstepError =>
  new LockstepError(
    'LOCKSTEP_CONFLICT',
    409,
    'the event-type catalog kept changing while the messages were being stored: send the request again with the same Idempotency-Key',
  );

/** Exported for the OpenAPI examples. */
export const payloadDeleted = (id: string): LockstepError =>
  new LockstepError(
    'LOCKSTEP_CONFLICT',
    409,
    `message ${id} has no payload any more (it was deleted), so it cannot be sent again: publish a new message instead`,
  );

/** The header and the body may both carry the key, but not two different ones. */
function oneKey(fromHeader: string | undefined, fromBody: string | undefined): string | undefined {
  if (fromHeader && fromBody && fromHeader !== fromBody)
    throw badField('idempotencyKey', 'differs from the Idempotency-Key header; send one or make them equal');
  return fromHeader ?? fromBody;
}
