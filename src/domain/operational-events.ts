import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/index.js';
import type { AttemptRecord, RecordResult } from '../store/deliveries.js';
import type { Store } from '../store/index.js';
import { EventTypes } from './event-types.js';
import { Messages } from './messages.js';
import { DELIVERY_DEAD, isOwnEventType, RECEIVER_DISABLED } from './own-events.js';

/** Tries per event before it is given up (and logged): a Redis blip passes, an outage does not hold events forever. */
const TRIES = 3;
const RETRY_AFTER_MS = 1000;

interface OwnEvent {
  eventType: string;
  payload: Record<string, unknown>;
  /** Made of what the event reports, so that a retried publish stores it once. */
  idempotencyKey: string;
}

/** An emitter's publisher: its events pass the rules of messages, as a producer's would (the catalog's schemas, tenancy). */
export function operationalEvents(store: Store, metrics: Metrics, requireKnownEventTypes: boolean, log: Logger): OperationalEvents {
  const eventTypes = new EventTypes({ store, requireKnown: requireKnownEventTypes, log });
  return new OperationalEvents(new Messages({ store, metrics, eventTypes, log }), store, log);
}

/**
 * Lockstep's operational events, published by the emitter that wrote what they report:
 * `lockstep.delivery.dead` when a delivery ends dead after its last retry, and
 * `lockstep.receiver.disabled` when a 410 or deliveries dying for too long disable a receiver.
 * They are messages without a tenant (the payload names the receiver's), delivered like any other
 * to the receivers without a tenant whose event types name them (`lockstep.*`: store/receivers.ts
 * `subscribesTo`); with no such receiver nothing is stored. None is sent about Lockstep's own
 * events, so a failing subscriber cannot feed itself.
 *
 * Best effort: an event is published after the batch reporting it is written, in the order
 * written, and an emitter killed in between loses it (the delivery's state and the metrics still
 * show it).
 */
export class OperationalEvents {
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly messages: Messages,
    private readonly store: Store,
    private readonly log: Logger,
  ) {}

  /** Told of every batch an emitter's drainer has written (emitter/attempt-accounting.ts). */
  recorded(records: AttemptRecord[], result: RecordResult): void {
    if (result.kind !== 'recorded') return;
    const died = records.filter((_, index) => result.statuses[index] === 'dead');
    const dead = died.filter((record) => !isOwnEventType(record.delivery.eventType));
    const { disabledNow } = result;
    const first = records[0];
    if (!first || (dead.length === 0 && disabledNow === undefined)) return;
    // the attempt that disabled the receiver: its 410, or the death that went past the limit
    const disabledBy = disabledNow === undefined ? undefined : (records.find((record) => record.outcome.kind === 'gone') ?? died.at(-1));
    this.chain = this.chain.then(() => this.publish(first.delivery.receiverId, dead, disabledNow, disabledBy));
  }

  /** Waits for the events still being published (the emitter stopping). */
  settle(): Promise<void> {
    return this.chain;
  }

  private async publish(receiverId: string, dead: AttemptRecord[], reason: string | undefined, disabledBy: AttemptRecord | undefined): Promise<void> {
    // a Redis error here counts as "wanted": publishOne's tries handle it
    const wanted = async (eventType: string): Promise<boolean> => this.store.messages.subscribed(eventType).catch(() => true);
    if (dead.length > 0 && !(await wanted(DELIVERY_DEAD))) dead = [];
    if (reason !== undefined && !(await wanted(RECEIVER_DISABLED))) reason = undefined;
    if (dead.length === 0 && reason === undefined) return;
    const events: OwnEvent[] = [];
    const receiver = await this.store.receivers.get(receiverId).catch(() => null);
    const about = { receiverId, ...(receiver?.tenantId ? { tenantId: receiver.tenantId } : {}), ...(receiver ? { url: receiver.url } : {}) };
    for (const record of dead) {
      const { messageId, eventType } = record.delivery;
      events.push({
        eventType: DELIVERY_DEAD,
        payload: { messageId, eventType, ...about, attempts: record.attempt.attempt, lastAttempt: attemptOf(record) },
        idempotencyKey: `${DELIVERY_DEAD}/${messageId}/${receiverId}/${record.attempt.attempt}`,
      });
    }
    if (reason !== undefined) {
      const by = disabledBy ? attemptOf(disabledBy) : undefined;
      events.push({
        eventType: RECEIVER_DISABLED,
        payload: { ...about, reason, ...(by ? { lastAttempt: { messageId: disabledBy?.delivery.messageId, ...by } } : {}) },
        idempotencyKey: `${RECEIVER_DISABLED}/${receiverId}/${disabledBy ? `${disabledBy.delivery.messageId}/${disabledBy.attempt.attempt}` : Date.now()}`,
      });
    }
    for (const event of events) await this.publishOne(event);
  }

  private async publishOne(event: OwnEvent): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        const { message } = await this.messages.acceptOwn(event, this.log);
        this.log.debug({ messageId: message.id, eventType: event.eventType }, 'operational event published');
        return;
      } catch (error) {
        if (attempt >= TRIES) {
          this.log.error({ err: error, eventType: event.eventType, idempotencyKey: event.idempotencyKey }, 'operational event lost: it could not be stored');
          return;
        }
        await sleep(RETRY_AFTER_MS);
      }
    }
  }
}

/** What the events say of an attempt. */
function attemptOf({ attempt }: AttemptRecord): Record<string, unknown> {
  return { attempt: attempt.attempt, startedAt: attempt.startedAt, statusCode: attempt.statusCode, error: attempt.error };
}
