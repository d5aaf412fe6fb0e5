/**
 * What the rest of Lockstep sees of tracing: these interfaces and nothing of OpenTelemetry, so that
 * no OpenTelemetry module is loaded unless an OTLP endpoint is configured (see ./index.ts).
 */

/** A span in progress whose W3C `traceparent` is passed on (stored with a message, sent to a receiver). */
export interface TracedSpan {
  /** `00-<trace id>-<span id>-<flags>` of this span. */
  readonly traceparent: string;
  /** Ends the span with the HTTP status (null: no answer) and, on failure, what went wrong. */
  end(statusCode: number | null, errorKind?: string | null): void;
}

/** One delivery attempt, as its span records it. */
export interface AttemptFields {
  receiverId: string;
  messageId: string;
  attempt: number;
  fence: number;
  /** How long the turn waited for the receiver's lock (ms). */
  lockWaitMs: number;
  url: string;
}

export interface Tracing {
  /** An API request's server span, continuing the caller's `traceparent` when it sent a valid one. */
  request(method: string, route: string, incoming: string | undefined): TracedSpan;
  /** A delivery attempt's client span, a child of the stored trace context (a new trace without one). */
  attempt(parent: string, fields: AttemptFields): TracedSpan;
  /** Exports what is buffered and stops (SIGTERM). */
  shutdown(): Promise<void>;
}

/** A W3C trace context version 00 `traceparent` (all-zero ids are invalid). */
const TRACEPARENT = /^00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/;

/** The header as given when it is a valid `traceparent`, else undefined (never stored, never passed on). */
export function validTraceparent(header: string | string[] | undefined): string | undefined {
  return typeof header === 'string' && TRACEPARENT.test(header) ? header : undefined;
}
