import { badField, notFound } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/index.js';
import type { AcceptedMessage, Message, NewMessage } from '../shapes/messages.js';
import type { NewMessage as StoredNewMessage } from '../store/messages.js';
import type { Store } from '../store/index.js';
import { batchCut, batchMessageKey } from './batch.js';
import { scheduleDrains } from './drain-scheduling.js';
import type { EventTypes } from './event-types.js';
import type { DomainLog } from './log.js';
import { checkPayloadDepth } from './payload-depth.js';

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

/** An explicit receiver id that names no receiver; `field` says where in the body it was. */
export const unknownReceiver = (field: string, receiverId: string) => badField(field, `names no receiver (${receiverId})`, 422);

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
    const { store, metrics } = this.options;
    checkPayloadDepth(input.payload, 'payload');
    await this.options.eventTypes.checkPayloads([{ eventType: input.eventType, payload: input.payload, at: '' }]);
    const idempotencyKey = oneKey(headerKey, input.idempotencyKey);
    const result = await store.messages.accept(
      { eventType: input.eventType, payload: input.payload, receiverIds: input.receiverIds, idempotencyKey },
      traceparent,
    );
    if (result.kind === 'unknown-receiver') {
      throw unknownReceiver(`receiverIds[${input.receiverIds?.indexOf(result.receiverId)}]`, result.receiverId);
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
    for (const [index, message] of messages.entries()) checkPayloadDepth(message.payload, `messages[${index}].payload`);
    await this.options.eventTypes.checkPayloads(messages.map(({ eventType, payload }, index) => ({ eventType, payload, at: `messages[${index}].` })));
    await this.refuseUnknownReceivers(messages);
    const results = await store.messages.acceptMany(
      batchKey === undefined
        ? messages
        : messages.map((message, index) => ({ ...message, idempotencyKey: message.idempotencyKey ?? batchMessageKey(batchKey, index) })),
      traceparent,
    );
    // What was stored is counted and drained even when part of the batch was refused.
    metrics.messagesAccepted(results.filter((result) => result.kind === 'accepted').length);
    await scheduleDrains(
      store,
      log,
      results.flatMap((result) => (result.kind === 'accepted' ? result.toWake : [])),
    );
    const cut = batchCut(results, batchKey !== undefined);
    if (cut) throw cut;
    return results.flatMap((result) => (result.kind === 'unknown-receiver' ? [] : [{ message: result.message, duplicate: result.kind === 'duplicate' }]));
  }

  async get(id: string): Promise<Message> {
    return (await this.options.store.messages.get(id)) ?? Promise.reject(notFound(`message ${id}`));
  }

  /** A new delivery of a stored message to each receiver (default: the receivers it went to). */
  async resend(id: string, receiverIds: string[] | undefined, log: DomainLog = this.options.log): Promise<AcceptedMessage> {
    const { store } = this.options;
    const result = await store.messages.resend(id, receiverIds);
    if (result.kind === 'not-found') throw notFound(`message ${id}`);
    if (result.kind === 'unknown-receiver') throw unknownReceiver(`receiverIds[${receiverIds?.indexOf(result.receiverId)}]`, result.receiverId);
    await scheduleDrains(store, log, result.message.receiverIds);
    return result.message;
  }

  /** A batch naming a receiver that does not exist is refused whole, before anything is stored. */
  private async refuseUnknownReceivers(messages: NewMessage[]): Promise<void> {
    const named = [...new Set(messages.flatMap((message) => message.receiverIds ?? []))];
    const existing = await this.options.store.receivers.existing(named);
    for (const [index, message] of messages.entries()) {
      const unknownId = (message.receiverIds ?? []).find((id) => !existing.has(id));
      if (unknownId !== undefined) throw unknownReceiver(`messages[${index}].receiverIds[${message.receiverIds?.indexOf(unknownId)}]`, unknownId);
    }
  }
}

/** The header and the body may both carry the key, but not two different ones. */
function oneKey(fromHeader: string | undefined, fromBody: string | undefined): string | undefined {
  if (fromHeader && fromBody && fromHeader !== fromBody)
    throw badField('idempotencyKey', 'differs from the Idempotency-Key header; send one or make them equal');
  return fromHeader ?? fromBody;
}
