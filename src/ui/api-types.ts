/**
 * The shapes of the API answers the dashboard reads: the server's own declarations in src/shapes
 * (TypeBox schemas and the types derived from them), imported as types only, so the browser
 * loads none of it.
 */
export type { Page } from '../shapes/common.js';
export type { LockHolder, Locks, ProcessReport, Stats } from '../shapes/fleet.js';
export type { Attempt, Delivery, DeliveryStatus, Message } from '../shapes/messages.js';
/** A receiver as list and get show it: no secret (GET …/secret has it), credential headers masked. */
export type { DeadLetter, PublicReceiver as Receiver } from '../shapes/receivers.js';
export type { MessageSummary } from '../shapes/message-list.js';
export type { PortalLink, Tenant } from '../shapes/tenants.js';
export type { EventType, EventTypeList } from '../shapes/event-types.js';
export type { ReceiverSecret } from '../shapes/signing.js';
