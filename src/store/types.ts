/** The stored shapes, as the API returns them (README: Walk-through, "What a receiver gets"). */

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
  /** Requests in flight to the receiver at once, across the whole fleet (1–256; absent = 1, one at a time). */
  maxInFlight?: number;
  /** Requests started per second, across the whole fleet; absent = no limit. */
  rateLimitPerSecond?: number;
  /** Requests that may start at once after an idle spell (with `rateLimitPerSecond`; absent = 1). */
  rateLimitBurst?: number;
  /** Seconds between attempts, instead of LOCKSTEP_RETRY_SCHEDULE (its length = the number of retries). */
  retrySchedule?: number[];
}

/** A PATCH: any setting; `null` clears an optional one (back to no limit, or the default schedule). */
export type ReceiverPatch = Partial<Omit<ReceiverSettings, 'rateLimitPerSecond' | 'retrySchedule'>> & {
  rateLimitPerSecond?: number | null;
  retrySchedule?: number[] | null;
};

export interface Receiver extends ReceiverSettings {
  id: string;
  maxInFlight: number;
  rateLimitBurst: number;
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
