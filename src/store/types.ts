/**
 * The store's shapes. Those the API shows are declared once, in src/shapes (TypeBox), and taken
 * from there; what the store adds is only the difference a stored record has from the wire.
 */
import type { PatchReceiver, ReceiverSettings as WireSettings } from '../shapes/receivers.js';
import type { ReceiverHealth } from '../shapes/receivers.js';

export type { Page } from '../shapes/common.js';
export type { AcceptedMessage, Attempt, Delivery, DeliveryStatus, Message } from '../shapes/messages.js';
export type { DeadLetter, ReceiverHealth, ReceiverOrdering } from '../shapes/receivers.js';

/**
 * The settings as stored: the flow-control fields may be absent on receivers stored before they
 * existed (read as 1), and the signature scheme (read as hmac-sha256).
 */
export type ReceiverSettings = Omit<WireSettings, 'maxInFlight' | 'rateLimitBurst' | 'signatureScheme'> &
  Partial<Pick<WireSettings, 'maxInFlight' | 'rateLimitBurst' | 'signatureScheme'>>;

/** A PATCH: any setting; `null` clears an optional one (back to no limit, or the default schedule). */
export type ReceiverPatch = PatchReceiver;

export interface Receiver extends ReceiverSettings {
  id: string;
  /** The tenant it belongs to (immutable); absent = none. */
  tenantId?: string;
  signatureScheme: WireSettings['signatureScheme'];
  /** While a key rotation overlaps: when the previous key stops signing. */
  previousSecretExpiresAt?: string;
  maxInFlight: number;
  rateLimitBurst: number;
  createdAt: string;
  updatedAt: string;
  disabledReason?: string;
}

export type ReceiverView = Receiver & { health: ReceiverHealth };
