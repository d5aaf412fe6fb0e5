/** The stored shapes, as the API returns them (see ../shared/API.md). */

/**
 * `unordered`: a failed delivery waits for its own retry while the others go on. `strict`: nothing
 * is sent to the receiver while an earlier delivery waits for its retry (Svix's "FIFO endpoints").
 */
export type ReceiverOrdering = 'unordered' | 'strict';

export interface ReceiverSettings {
  url: string;
  eventTypes: string[];
  secret: string;
  description: string;
  headers: Record<string, string>;
  timeoutMs: number;
  enabled: boolean;
  ordering: ReceiverOrdering;
}

export interface Receiver extends ReceiverSettings {
  id: string;
  createdAt: string;
  updatedAt: string;
  disabledReason?: string;
}

export type DeliveryStatus = 'pending' | 'delivering' | 'delivered' | 'retrying' | 'dead' | 'cancelled';

export interface Attempt {
  attempt: number;
  startedAt: string;
  durationMs: number;
  statusCode: number | null;
  error: string | null;
  emitterId: string;
  fence: number;
  responseBody?: string;
  responseHeaders?: Record<string, string>;
}

export interface Delivery {
  receiverId: string;
  status: DeliveryStatus;
  nextAttemptAt: string | null;
  /** The first 3 and the last 10 attempts, in order. */
  attempts: Attempt[];
  /** Attempts made between those shown and left out of the history (0 for 13 attempts or fewer). */
  omittedAttempts: number;
}

export interface Message {
  id: string;
  eventType: string;
  payload: unknown;
  createdAt: string;
  deliveries: Delivery[];
}

export interface AcceptedMessage {
  id: string;
  eventType: string;
  receiverIds: string[];
  createdAt: string;
}

/** What an operator sees about a receiver's recent behaviour. */
export interface ReceiverHealth {
  lastSuccessAt: string | null;
  lastFailureAt: string | null;
  consecutiveFailures: number;
  nextRetryAt: string | null;
  /** `open`: the receiver backs off as a whole, one probe per retry step, until a success closes it. */
  breaker: { state: 'closed' | 'open'; since: string | null; nextProbeAt: string | null };
  queueDepth: number;
  /** Deliveries that used up their retries and wait for a replay. */
  deadLetters: number;
}

export type ReceiverView = Receiver & { health: ReceiverHealth };

/** A delivery that used up its retries, as an operator deciding whether to replay it sees it. */
export interface DeadLetter {
  messageId: string;
  eventType: string;
  messageCreatedAt: string;
  diedAt: string;
  attempts: number;
  lastAttempt: Attempt | null;
}

/** One page of a list; `next` is the cursor of the following page, null on the last. */
export interface Page<T> {
  data: T[];
  next: string | null;
}
