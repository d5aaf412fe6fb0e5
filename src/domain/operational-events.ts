import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/index.js';
import {
  DELIVERY_DEAD,
  RECEIVER_CREATED,
  RECEIVER_DELETED,
  RECEIVER_DISABLED,
  RECEIVER_FAILING,
  RECEIVER_RECOVERED,
  RECEIVER_UPDATED,
  type DeliveryDead,
  type OperationalEventData,
  type ReceiverDisabled,
  type ReceiverEventBase,
} from '../shapes/operational-events.js';
import type { AttemptRecord, RecordResult } from '../store/deliveries.js';
import type { ReceiverView, Store } from '../store/index.js';
import { EventTypes } from './event-types.js';
import { Messages } from './messages.js';
import { hasOwnPrefix } from './own-events.js';
import { actorOf, type Principal } from './scopes.js';

/** Tries per event before it is given up (and logged): a Redis blip passes, an outage does not hold events forever. */
const TRIES = 3;
const RETRY_AFTER_MS = 1000;

interface OwnEvent {
  eventType: string;
  payload: OperationalEventData;
  /** Made of what the event reports, so that a retried publish stores it once. */
  idempotencyKey: string;
}

/** An event a written batch reports: its type, the attempt it is about, and what only this type says. */
interface Report {
  eventType: string;
  record: AttemptRecord;
  data: Omit<DeliveryDead, keyof ReceiverEventBase> | Omit<ReceiverDisabled, keyof ReceiverEventBase> | Record<never, never>;
}

/** What happened to a receiver through the API, and who did it: registered, changed (naming the fields set) or deleted. */
export type ReceiverChange = ({ kind: 'created' } | { kind: 'updated'; changed: string[] } | { kind: 'deleted' }) & { by: Principal };

/** An emitter's publisher: its events pass the rules of messages, as a producer's would (the catalog's schemas, tenancy). */
export function operationalEvents(store: Store, metrics: Metrics, requireKnownEventTypes: boolean, log: Logger): OperationalEvents {
  const eventTypes = new EventTypes({ store, requireKnown: requireKnownEventTypes, log });
  return new OperationalEvents(new Messages({ store, metrics, eventTypes, log }), store, metrics, log);
}

/**
 * Lockstep's operational events (shapes/operational-events.ts declares them), published by the
 * emitter that wrote what they report: a receiver failing (its consecutive failures reached
 * LOCKSTEP_BREAKER_FAILURES) and recovered, a delivery dead after its last retry, a receiver
 * disabled by a 410 or by deliveries dying for too long; and, published by the API process that
 * made the change, a receiver created, updated or deleted. They are messages without a tenant (the
 * payload names the receiver's), delivered like any other to the receivers without a tenant whose
 * event types name them (`lockstep.*`: store/receivers.ts `subscribesTo`); with no such receiver
 * nothing is stored. No delivery of Lockstep's own events is reported dead, so a failing
 * subscriber cannot feed itself.
 *
 * Best effort: an event is published after the batch reporting it is written, in the order
 * written, and an emitter killed in between loses it (the receiver's health, the delivery's state
 * and the metrics still show it).
 */
export class OperationalEvents {
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly messages: Messages,
    private readonly store: Store,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {}

  /** Told of every batch an emitter's drainer has written (emitter/attempt-accounting.ts). */
  recorded(records: AttemptRecord[], result: RecordResult): void {
    if (result.kind !== 'recorded') return;
    const reports = reportsOf(records, result);
    const receiverId = reports[0]?.record.delivery.receiverId;
    // a failure must not stop the chain: the events after it still go out
    if (receiverId !== undefined)
      this.chain = this.chain
        .then(() => this.publish(receiverId, reports))
        .catch((error: unknown) => this.log.error({ err: error, receiverId }, 'operational events lost'));
  }

  /**
   * A receiver's change, published before the API answers so that changes made one after another
   * are stored in that order; one that cannot be stored is logged and counted, and the change stands.
   */
  async receiverChanged(receiver: ReceiverView, change: ReceiverChange): Promise<void> {
    const eventType = { created: RECEIVER_CREATED, updated: RECEIVER_UPDATED, deleted: RECEIVER_DELETED }[change.kind];
    if (!(await this.wanted(eventType))) return;
    const { id: receiverId, tenantId, url, description, eventTypes, enabled } = receiver;
    const who = { receiverId, ...(tenantId ? { tenantId } : {}), url, by: actorOf(change.by) };
    await this.publishOne({
      eventType,
      payload:
        change.kind === 'deleted' ? who : { ...who, description, eventTypes, enabled, ...(change.kind === 'updated' ? { changed: change.changed } : {}) },
      // one key per change: a retried publish stores it once, two changes are two events
      idempotencyKey: `${eventType}/${receiverId}/${randomUUID()}`,
    });
  }

  /** Waits for the events still being published (the emitter stopping). */
  settle(): Promise<void> {
    return this.chain;
  }

  private async publish(receiverId: string, reports: Report[]): Promise<void> {
    const wanted = new Map<string, boolean>();
    for (const { eventType } of reports) if (!wanted.has(eventType)) wanted.set(eventType, await this.wanted(eventType));
    const chosen = reports.filter(({ eventType }) => wanted.get(eventType));
    if (chosen.length === 0) return;
    const receiver = await this.store.receivers.get(receiverId).catch(() => null);
    const about = {
      receiverId,
      ...(receiver?.tenantId ? { tenantId: receiver.tenantId } : {}),
      ...(receiver ? { url: receiver.url, health: receiver.health } : {}),
    };
    for (const { eventType, record, data } of chosen) {
      const { messageId } = record.delivery;
      const { attempt, startedAt, durationMs, statusCode, error } = record.attempt;
      await this.publishOne({
        eventType,
        payload: { ...about, ...data, lastAttempt: { messageId, attempt, startedAt, durationMs, statusCode, error } },
        idempotencyKey: `${eventType}/${receiverId}/${messageId}/${attempt}`,
      });
    }
  }

  /** Whether some receiver subscribes to `eventType`; a Redis error counts as yes, and publishOne's tries handle it. */
  private wanted(eventType: string): Promise<boolean> {
    return this.store.messages.subscribed(eventType).catch(() => true);
  }

  private async publishOne(event: OwnEvent): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        const { message } = await this.messages.acceptOwn(event, this.log);
        this.metrics.operationalEvent(event.eventType, 'published');
        this.log.debug({ messageId: message.id, eventType: event.eventType }, 'operational event published');
        return;
      } catch (error) {
        if (attempt >= TRIES) {
          this.metrics.operationalEvent(event.eventType, 'lost');
          this.log.error({ err: error, eventType: event.eventType, idempotencyKey: event.idempotencyKey }, 'operational event lost: it could not be stored');
          return;
        }
        await sleep(RETRY_AFTER_MS);
      }
    }
  }
}

/** What a written batch reports, in the order it happened as a rule: failing, deaths, disabling, recovery. */
function reportsOf(records: AttemptRecord[], result: RecordResult & { kind: 'recorded' }): Report[] {
  const reports: Report[] = [];
  const died = records.filter((_, index) => result.statuses[index] === 'dead');
  const lastFailure = records.findLast((record) => record.outcome.kind === 'failed');
  if (result.failures === 'failing' && lastFailure) reports.push({ eventType: RECEIVER_FAILING, record: lastFailure, data: {} });
  for (const record of died) {
    const { messageId, eventType } = record.delivery;
    if (!hasOwnPrefix(eventType)) reports.push({ eventType: DELIVERY_DEAD, record, data: { messageId, eventType, attempts: record.attempt.attempt } });
  }
  // the attempt that disabled the receiver: its 410, or the death that went past the limit
  const disabledBy = records.find((record) => record.outcome.kind === 'gone') ?? died.at(-1);
  if (result.disabledNow !== undefined && disabledBy) reports.push({ eventType: RECEIVER_DISABLED, record: disabledBy, data: { reason: result.disabledNow } });
  const success = records.find((record) => record.outcome.kind === 'delivered');
  if (result.failures === 'recovered' && success) reports.push({ eventType: RECEIVER_RECOVERED, record: success, data: {} });
  return reports;
}
