import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitFor } from './ports.js';

/** How one receiver (one path on the shared test server) answers. */
export interface Behaviour {
  /** Milliseconds before answering. */
  delayMs?: number;
  /** Status to answer with (default 200). */
  status?: number;
  /** Fraction of requests (0..1) answered with `failStatus` instead. */
  failRate?: number;
  /** Status of the `failRate` failures (default 500; e.g. 429 with a retry-after header). */
  failStatus?: number;
  /** Never answer (until the client gives up). */
  hang?: boolean;
  /** Refuse (409) a `fence` lower than the highest seen, as the README advises receivers to. */
  checkFence?: boolean;
  /** Extra response headers (e.g. retry-after). */
  headers?: Record<string, string>;
}

export interface RecordedRequest {
  /** Arrival order across the whole server (start times tie within a millisecond). */
  seq: number;
  receiver: string;
  start: number;
  end: number;
  status: number;
  messageId: string;
  fence: number;
  /** The request was cut off before an answer was sent (client aborted). */
  aborted: boolean;
  headers: Record<string, string>;
  body: string;
}

/** A request as the raw mode (`answer`) saw it, recorded as soon as its body was read. */
export interface ReceivedRequest {
  path: string;
  method: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** Answers a request in raw mode: the test writes the response itself (or never does). */
export type Answer = (response: ServerResponse, request: IncomingMessage) => void;

/** A request still in flight when another one to the same receiver arrived. */
export interface InFlightRequest {
  seq: number;
  start: number;
  /** Unknown (0, '') until its body has been read. */
  fence: number;
  messageId: string;
  /** When the sender closed the connection (an abort), if it did while the handler still ran. */
  closedAt?: number;
}

/** Two requests at one receiver at once: `seq`/`fence` is the one that arrived, `others` were in flight. */
export interface Overlap {
  receiver: string;
  at: number;
  seq: number;
  fence: number;
  messageId: string;
  others: InFlightRequest[];
}

/**
 * A real HTTP receiver for tests: each path `/r/<name>` is one webhook endpoint with its own
 * behaviour. It records every request's start and end and counts overlapping requests per
 * receiver: the thing Lockstep must never cause.
 *
 * Raw mode, for tests of the delivery client itself: while `answer` is set, every request, on any
 * path, is recorded in `received` and answered by it instead (see `address`).
 */
export class TestReceiver {
  readonly requests: RecordedRequest[] = [];
  readonly overlaps: Overlap[] = [];
  readonly staleFences: { receiver: string; fence: number; highest: number; at?: number; messageId?: string }[] = [];
  private readonly behaviours = new Map<string, Behaviour>();
  private readonly inFlight = new Map<string, number>();
  /** The most requests ever in flight at once, per receiver (maxInFlight checks). */
  private readonly peak = new Map<string, number>();
  /** The requests in flight per receiver, with what is known of them, for overlap reports. */
  private readonly inFlightDetail = new Map<string, Set<InFlightRequest>>();
  private seq = 0;
  private readonly highestFence = new Map<string, number>();
  private readonly server: Server;
  /** Every socket that ever connected (for connection-count assertions). */
  connections = 0;
  /** Raw mode: set, it answers every request (see the class comment). */
  answer: Answer | undefined;
  /** The requests raw mode answered, in arrival order. */
  readonly received: ReceivedRequest[] = [];

  private constructor() {
    this.server = createServer((request, response) => void this.handle(request, response));
    this.server.on('connection', () => this.connections++);
  }

  static async start(): Promise<TestReceiver> {
    const receiver = new TestReceiver();
    await new Promise<void>((resolve) => receiver.server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** The URL of receiver `name` (a path of its own, with its own behaviour). */
  url(name: string): string {
    return `http://127.0.0.1:${this.port}/r/${name}`;
  }

  /** Any URL on this server, under any host name that resolves to it (raw mode). */
  address(path = '/hook', host = '127.0.0.1'): string {
    return `http://${host}:${this.port}${path}`;
  }

  set(name: string, behaviour: Behaviour): void {
    this.behaviours.set(name, behaviour);
  }

  /** Resolves once every one of `messageIds` has been answered 200 (by `receiver`, or by any), else throws after `timeoutMs`. */
  async waitForDelivered(messageIds: string[], timeoutMs: number, receiver?: string): Promise<void> {
    await waitFor(
      `every one of ${messageIds.length} accepted messages to be delivered${receiver ? ` to ${receiver}` : ''}`,
      () => {
        const delivered = new Set(this.requests.filter((r) => r.status === 200 && (!receiver || r.receiver === receiver)).map((r) => r.messageId));
        return messageIds.every((id) => delivered.has(id));
      },
      timeoutMs,
      250,
    );
  }

  /** How many deliveries (message at one receiver) were answered 200 more than once (at least once: repeats after a fault). */
  deliveredMoreThanOnce(): number {
    return this.repeatedDeliveries().length;
  }

  /** The deliveries answered 200 more than once, each with when the first of those requests arrived. */
  repeatedDeliveries(): { receiver: string; messageId: string; firstAt: number; times: number }[] {
    const perDelivery = new Map<string, { receiver: string; messageId: string; firstAt: number; times: number }>();
    for (const { receiver, messageId, start } of this.requests.filter((r) => r.status === 200)) {
      const seen = perDelivery.get(`${receiver} ${messageId}`);
      if (seen) [seen.times, seen.firstAt] = [seen.times + 1, Math.min(seen.firstAt, start)];
      else perDelivery.set(`${receiver} ${messageId}`, { receiver, messageId, firstAt: start, times: 1 });
    }
    return [...perDelivery.values()].filter(({ times }) => times > 1);
  }

  /** The most requests to `name` that were ever in flight at once. */
  peakInFlightTo(name: string): number {
    return this.peak.get(name) ?? 0;
  }

  /** How long (ms) the oldest request to `name` still in flight has been open; null when none is. */
  openForMs(name: string): number | null {
    const starts = [...(this.inFlightDetail.get(name) ?? [])].map((r) => r.start);
    return starts.length > 0 ? Date.now() - Math.min(...starts) : null;
  }

  /** Requests to `name` that have started and not ended yet. */
  inFlightTo(name: string): number {
    return this.inFlight.get(name) ?? 0;
  }

  for(name: string): RecordedRequest[] {
    return this.requests.filter((r) => r.receiver === name);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (this.answer) return this.handleRaw(request, response, this.answer);
    const start = Date.now();
    const receiver = (request.url ?? '').replace(/^\/r\//, '');
    const behaviour = this.behaviours.get(receiver) ?? {};
    const running = (this.inFlight.get(receiver) ?? 0) + 1;
    this.inFlight.set(receiver, running);
    if (running > (this.peak.get(receiver) ?? 0)) this.peak.set(receiver, running);
    const self: InFlightRequest = { seq: ++this.seq, start, fence: 0, messageId: String(request.headers['webhook-id'] ?? '') };
    const onClose = (): void => {
      self.closedAt ??= Date.now();
    };
    request.socket.once('close', onClose);
    const detail = this.inFlightDetail.get(receiver) ?? new Set<InFlightRequest>();
    this.inFlightDetail.set(receiver, detail);
    // the others are kept by reference: their fences are filled in once their bodies are read
    const overlap: Overlap | undefined =
      running > 1 ? { receiver, at: start, seq: self.seq, fence: 0, messageId: self.messageId, others: [...detail] } : undefined;
    if (overlap) this.overlaps.push(overlap);
    detail.add(self);
    let body = '';
    for await (const chunk of request) body += chunk;
    const fence = fenceOf(body);
    self.fence = fence;
    if (overlap) overlap.fence = fence;
    let status = this.statusFor(receiver, behaviour, fence, self);
    let aborted = false;
    if (behaviour.hang) await new Promise((resolve) => request.socket.once('close', resolve));
    else if (behaviour.delayMs) await new Promise((resolve) => setTimeout(resolve, behaviour.delayMs));
    if (request.socket.destroyed) aborted = true;
    this.inFlight.set(receiver, (this.inFlight.get(receiver) ?? 1) - 1);
    detail.delete(self);
    request.socket.off('close', onClose); // keep-alive sockets outlive the request
    if (aborted) status = 0;
    this.requests.push({
      seq: self.seq,
      receiver,
      start,
      end: Date.now(),
      status,
      messageId: String(request.headers['webhook-id'] ?? ''),
      fence,
      aborted,
      headers: Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k, String(v)])),
      body,
    });
    if (!aborted) response.writeHead(status, { 'content-type': 'text/plain', ...behaviour.headers }).end(status < 300 ? 'ok' : 'nope');
  }

  private async handleRaw(request: IncomingMessage, response: ServerResponse, answer: Answer): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    this.received.push({ path: request.url ?? '', method: request.method ?? '', headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
    answer(response, request);
  }

  private statusFor(receiver: string, behaviour: Behaviour, fence: number, self: InFlightRequest): number {
    if (behaviour.checkFence) {
      const highest = this.highestFence.get(receiver) ?? 0;
      if (fence < highest) {
        this.staleFences.push({ receiver, fence, highest, at: self.start, messageId: self.messageId });
        return 409;
      }
      this.highestFence.set(receiver, fence);
    }
    if (behaviour.failRate && Math.random() < behaviour.failRate) return behaviour.failStatus ?? 500;
    return behaviour.status ?? 200;
  }
}

function fenceOf(body: string): number {
  try {
    return Number((JSON.parse(body) as { fence?: number }).fence ?? 0);
  } catch {
    return 0;
  }
}
