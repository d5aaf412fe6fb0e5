/** The stored shapes, as the API returns them (see ../shared/API.md). */

export interface ReceiverSettings {
  url: string;
  eventTypes: string[];
  secret: string;
  description: string;
  headers: Record<string, string>;
  timeoutMs: number;
  enabled: boolean;
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
  attempts: Attempt[];
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
