/** The shapes of the public API responses the dashboard reads (see API.md and /docs). */

export interface ReceiverHealth {
  lastSuccessAt: string | null;
  lastFailureAt: string | null;
  consecutiveFailures: number;
  nextRetryAt: string | null;
  queueDepth: number;
  deadLetters: number;
}

export interface Receiver {
  id: string;
  url: string;
  description: string;
  eventTypes: string[];
  timeoutMs: number;
  enabled: boolean;
  disabledReason?: string;
  createdAt: string;
  health: ReceiverHealth;
}

export interface Attempt {
  attempt: number;
  startedAt: string;
  durationMs: number;
  statusCode: number | null;
  error: string | null;
  emitterId: string;
  fence: number;
  responseBody?: string;
}

export type DeliveryStatus = 'pending' | 'delivering' | 'delivered' | 'retrying' | 'dead' | 'cancelled';

export interface Delivery {
  receiverId: string;
  status: DeliveryStatus;
  nextAttemptAt: string | null;
  attempts: Attempt[];
}

export interface Message {
  id: string;
  eventType: string;
  payload: unknown;
  createdAt: string;
  deliveries: Delivery[];
}

export interface DeadLetter {
  messageId: string;
  eventType: string;
  messageCreatedAt: string;
  diedAt: string;
  attempts: number;
  lastAttempt: Attempt | null;
}

export interface Page<T> {
  data: T[];
  next: string | null;
}

export interface LockHolder {
  receiverId: string;
  emitterId: string;
  fence: number;
  since: string;
}

export interface Locks {
  backend: string;
  data: LockHolder[];
}

export interface ProcessReport {
  id: string;
  role: 'all' | 'api' | 'emitter';
  host: string;
  pid: number;
  version: string;
  startedAt: string;
  reportedAt: string;
  accepted: number;
  attempts: Record<'delivered' | 'failed' | 'dead' | 'gone' | 'aborted', number>;
  receiversHeld: number;
  lagBucketsMs: [number, number][];
}

export interface Stats {
  at: string;
  lockBackend: string;
  queue: { depth: Record<'pending' | 'retrying' | 'dead', number>; oldestAgeS: Record<'pending' | 'retrying', number> };
  processes: ProcessReport[];
}
