/** The shapes of a drain turn (drain.ts): how it ends, what it is given, what a window's attempts share. */
import type { Signer } from '../delivery/signer.js';
import type { ChannelNotices } from '../store/index.js';
import type { Tracing } from '../tracing/index.js';
import type { RecordedListener } from './attempt-accounting.js';
import type { Linger } from './linger.js';
import type { RetryPolicy } from './retry-policy.js';

/** How a turn on one receiver ended, which decides what becomes of its drain job. */
export type TurnEnd =
  | { kind: 'done' } // nothing to send (empty, disabled or deleted): the job completes
  | { kind: 'later'; inMs: number } // more to do in `inMs` (backoff, budget spent, lock lost): a delay, which a clock step cannot shift
  | { kind: 'busy' }; // another process holds the receiver (or the store has seen a newer holder; or the lock service did not answer)

export interface DrainOptions {
  emitterId: string;
  /** How long to wait for a receiver another process holds before giving the job back. */
  lockWaitMs: number;
  maxMessagesPerTurn: number;
  maxTurnMs: number;
  retry: RetryPolicy;
  /** Notices of receivers' config changes: a window whose receiver's keys rotated stops before its next attempt. */
  keyChanges: ChannelNotices;
  /** OpenTelemetry, when configured: a span per attempt, its `traceparent` sent to the receiver. */
  tracing?: Tracing;
  /** Whether drain jobs wait for an emitter: while none does, a turn's message budget grows instead of ending it. */
  othersWaiting?: () => Promise<boolean>;
  /** A turn whose queue empties waits a moment for new work: linger.ts. */
  linger?: Linger;
  /** The lock service may have stopped answering this process (an acquire failed, or a lock was lost to its deadline or a failed renewal): lock-gate.ts. */
  lockServiceSilent?: (why: string) => void;
  /** Told of every batch of attempts written, beside the metrics and the log (domain/operational-events.ts). */
  onRecorded?: RecordedListener;
}

/**
 * What every attempt of a window shares: the receiver's retry schedule, its signing keys, how long
 * the turn waited for the lock (ms), and the key-change stamp taken before its claim was sent.
 */
export interface WindowFacts {
  schedule: number[];
  signer: Signer;
  lockWaitMs: number;
  keysStamp: number;
}
