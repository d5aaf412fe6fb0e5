/**
 * The shapes of the API responses the dashboard reads: the server's own declarations (pure type
 * modules, compiled into the dashboard's program too), plus the few it only sends as JSON.
 */
import type { ReceiverView } from '../store/types.js';

export type { Attempt, DeadLetter, Delivery, Message, Page } from '../store/types.js';
/** A receiver as list and get show it: no secret (GET …/secret has it), credential headers masked. */
export type Receiver = Omit<ReceiverView, 'secret'>;
export type { FleetStats as Stats, ProcessReport } from '../metrics/types.js';

export interface LockHolder {
  receiverId: string;
  /** 0: the receiver's own lock; 1…: its other maxInFlight lanes. */
  slot: number;
  emitterId: string;
  fence: number;
  since: string;
}

export interface Locks {
  backend: string;
  data: LockHolder[];
}
