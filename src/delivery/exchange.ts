import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import { BodyCapture } from './bounded-response.js';
import { BLOCKED_ADDRESS_CODE } from './guarded-connector.js';
import type { GatedWrite, WriteGate } from './write-gate.js';

export type ErrorKind = 'timeout' | 'aborted' | 'network' | 'blocked-address';

/** What ended a request early. */
export interface Failure {
  kind: ErrorKind;
  error: string;
}

/** What one exchange came to: the failure that ended it, if any, and what arrived of the answer. */
export interface Exchanged {
  failure: Failure | null;
  /** null when no status line arrived. */
  statusCode: number | null;
  headers: IncomingHttpHeaders;
  body: string;
}

/** setTimeout's ceiling; beyond it Node fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * One request's handler on undici's dispatch API (no response stream, no AbortController, no
 * promise per step: the hot path's costs): keeps the bounded answer, ends the request at its
 * deadline or when the caller's signal aborts, whichever comes first, and says which (an abort
 * must not be reported as a timeout, nor the reverse), and makes the caller's last check right
 * before the request's first byte is written.
 *
 * `onRequestStart` runs in undici's write step, synchronously before the request line goes into
 * the socket (client-h1 `writeH1`): whatever `mayWrite` refuses there is aborted unsent. A
 * process frozen after the caller's own checks (SIGSTOP, a long pause) finds out there on waking.
 * The socket's write in that step asks `mayWrite` once more (write-gate.ts), closer still.
 */
export class Exchange implements Dispatcher.DispatchHandler, GatedWrite {
  readonly done: Promise<Exchanged>;
  private resolve!: (exchanged: Exchanged) => void;
  private settled = false;
  private failure: Failure | null = null;
  private controller: Dispatcher.DispatchController | undefined;
  private statusCode: number | null = null;
  private headers: IncomingHttpHeaders = {};
  private readonly capture: BodyCapture;
  private readonly timer: RequestTimer;
  private readonly onAbort = (): void => this.fail({ kind: 'aborted', error: `aborted: ${reasonText(this.signal.reason)}` });

  constructor(
    private readonly signal: AbortSignal,
    private readonly timeoutMs: number,
    private readonly timers: RequestTimers,
    maxResponseBytes: number,
    /** The last check before the write: a reason to send nothing (e.g. "lock on rcv_x lost: deadline"), or null. */
    private readonly mayWrite: (() => string | null) | undefined,
    private readonly gate: WriteGate,
  ) {
    this.done = new Promise((resolve) => (this.resolve = resolve));
    this.capture = new BodyCapture(maxResponseBytes);
    const delay = Math.min(Math.max(Number.isFinite(timeoutMs) ? timeoutMs : MAX_TIMER_MS, 1), MAX_TIMER_MS);
    this.timer = timers.arm(delay, () => this.fail({ kind: 'timeout', error: `timed out after ${this.timeoutMs} ms` }));
    if (signal.aborted) this.onAbort();
    else signal.addEventListener('abort', this.onAbort, { once: true });
  }

  /** Ended before it was dispatched (the signal had already aborted): nothing may go out. */
  get ended(): boolean {
    return this.settled;
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    const refused = this.settled ? null : this.mayWrite?.();
    if (refused) this.fail(unsent(refused));
    // ended while queued or connecting (abort, timeout, refused just now): abort it here, unsent
    if (this.settled) controller.abort(new Error(this.failure?.error ?? 'ended'));
    else if (this.mayWrite) this.gate.arm(this);
  }

  /**
   * The socket's own check (write-gate.ts), armed only for an exchange onRequestStart let through,
   * in the same synchronous step. A refusal ends the exchange here (a lost lock's signal may
   * already have); the failed write drops the connection, so undici is not aborted from inside it.
   */
  atWrite(): string | null {
    const refused = this.mayWrite?.();
    if (!refused) return null;
    this.failure ??= unsent(refused);
    this.finish(this.failure);
    return this.failure.error;
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    this.statusCode = statusCode;
    this.headers = headers;
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.capture.add(chunk)) return;
    // far past what is kept: the answer is what arrived, and the connection is cut rather than read to the end
    this.finish(null);
    controller.abort(new Error('response body cut off'));
  }

  onResponseEnd(): void {
    this.finish(null);
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.finish(failureOf(error));
  }

  /** The request could not even be handed to undici (a bad URL, the proxy's address refused). */
  failedToDispatch(error: unknown): void {
    this.finish(failureOf(error));
  }

  /** Ends the exchange early: the first failure wins, and a request on the wire is aborted at once. */
  private fail(failure: Failure): void {
    if (this.settled) return;
    this.failure = failure;
    this.finish(failure);
    this.controller?.abort(new Error(failure.error));
  }

  private finish(failure: Failure | null): void {
    if (this.settled) return;
    this.settled = true;
    this.timers.release(this.timer);
    this.signal.removeEventListener('abort', this.onAbort);
    this.resolve({ failure: this.failure ?? failure, statusCode: this.statusCode, headers: this.headers, body: this.capture.text() });
  }
}

/** Idle request timers kept per duration; beyond this many a finished request's timer is cleared. */
const MAX_IDLE_TIMERS = 64;

/**
 * Request timers kept for reuse. A setTimeout and a clearTimeout per request allocate a Timeout
 * and, with one request in flight, add and remove that duration's list on the timer heap each
 * time; re-arming a kept Timeout (`refresh`) does neither. One that fired is never reused (Node
 * marks it destroyed), and an idle one that fires finds nothing to end.
 */
export class RequestTimers {
  private readonly idle = new Map<number, RequestTimer[]>();

  arm(delayMs: number, onFire: () => void): RequestTimer {
    let timer = this.idle.get(delayMs)?.pop();
    while (timer?.fired) timer = this.idle.get(delayMs)?.pop();
    if (!timer) return new RequestTimer(delayMs, onFire);
    timer.onFire = onFire;
    timer.timeout.ref().refresh();
    return timer;
  }

  release(timer: RequestTimer): void {
    timer.onFire = undefined;
    const idle = this.idle.get(timer.delayMs) ?? [];
    if (timer.fired || idle.length >= MAX_IDLE_TIMERS) return clearTimeout(timer.timeout);
    timer.timeout.unref(); // idle: it must not keep the process alive
    idle.push(timer);
    this.idle.set(timer.delayMs, idle);
  }
}

class RequestTimer {
  readonly timeout: NodeJS.Timeout;
  fired = false;

  constructor(
    readonly delayMs: number,
    public onFire: (() => void) | undefined,
  ) {
    this.timeout = setTimeout(() => {
      this.fired = true;
      this.onFire?.();
    }, delayMs);
  }
}

/** A request refused at the last check before its write. */
function unsent(reason: string): Failure {
  return { kind: 'aborted', error: `aborted before the write: ${reason}` };
}

function reasonText(reason: unknown): string {
  return reason instanceof Error ? reason.message : String(reason);
}

function failureOf(error: unknown): Failure {
  const blocked = findCause(error, (e) => e.code === BLOCKED_ADDRESS_CODE);
  if (blocked) return { kind: 'blocked-address', error: blocked.message };
  return { kind: 'network', error: describe(error) };
}

type SystemError = NodeJS.ErrnoException & { address?: string; port?: number; errors?: unknown[] };

function findCause(error: unknown, match: (e: SystemError) => boolean): SystemError | undefined {
  for (let current = error; current instanceof Error; current = current.cause) {
    if (match(current)) return current;
  }
  return undefined;
}

/**
 * "ECONNREFUSED 127.0.0.1:9" for socket errors, the undici code and text otherwise. Happy
 * Eyeballs reports one AggregateError for all the addresses it tried: each is named.
 */
function describe(error: unknown): string {
  const coded = findCause(error, (e) => typeof e.code === 'string');
  if (!coded) return error instanceof Error ? error.message : String(error);
  if (coded.errors?.length) return coded.errors.map(describe).join('; ');
  if (coded.address) return `${coded.code} ${coded.address}${coded.port ? `:${coded.port}` : ''}`;
  return coded.message.includes(coded.code ?? '') ? coded.message : `${coded.code}: ${coded.message}`;
}
