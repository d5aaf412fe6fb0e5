import { promises as dns } from 'node:dns';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { Agent, type Dispatcher } from 'undici';
import { VERSION } from '../version.js';
import type { AddressGuard } from './address-guard.js';
import { boundedHeaders, parseRetryAfter } from './bounded-response.js';
import { EgressProxy } from './egress-proxy.js';
import { Exchange, RequestTimers, type ErrorKind } from './exchange.js';
import { guardedConnector, type Resolver } from './guarded-connector.js';
import { WriteGate } from './write-gate.js';

export { parseRetryAfter } from './bounded-response.js';
export type { Resolver } from './guarded-connector.js';

export interface DeliveryRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  /** Covers the whole exchange: connect, request, response headers and body. */
  timeoutMs: number;
  /** The lock's `lost` signal: aborting it aborts the request at once; its reason goes into `error`. */
  signal: AbortSignal;
  /**
   * Asked right before the request's first byte is written (exchange.ts), after any wait for the
   * connection: a reason to send nothing (the lock's deadline passed), or null to go on.
   */
  mayWrite?: () => string | null;
}

export interface DeliveryResult {
  /** null when no status line arrived. Kept when the body then failed (errorKind says how): the receiver did answer. */
  statusCode: number | null;
  errorKind: ErrorKind | null;
  /** Human text: "timed out after 15000 ms", "ECONNREFUSED 127.0.0.1:9", "aborted: lock on rcv_x lost: deadline". */
  error: string | null;
  /** From just before the request to the end of reading the (bounded) response. */
  durationMs: number;
  /** Response headers, bounded in total size. */
  responseHeaders: Record<string, string>;
  /** The first bytes of the response body (utf8, possibly cut mid-character). */
  responseBody: string;
  /** `Retry-After` (seconds or HTTP date) in ms, when the receiver sent one; the caller decides whether to honour it. */
  retryAfterMs: number | null;
}

export interface DeliveryClientOptions {
  guard: AddressGuard;
  /** Response body bytes kept (default 65536); the rest is discarded. */
  maxResponseBytes?: number;
  /** Response header bytes kept, names plus values (default 8192). */
  maxResponseHeaderBytes?: number;
  /** Default `Lockstep/<package version>`. */
  userAgent?: string;
  /**
   * Connections per origin (default unlimited). Several receivers may share an origin; each has
   * at most one request in flight, and a cap here would make them queue behind each other.
   */
  connections?: number | null;
  /**
   * Name resolution, default the system resolver (dns.lookup, as Node itself uses). Every address
   * it returns passes the guard before a socket is opened.
   */
  resolve?: Resolver;
  /** An HTTP CONNECT proxy every request goes through (`LOCKSTEP_EGRESS_PROXY`; egress-proxy.ts). */
  proxy?: string;
}

/**
 * Sends webhooks through one undici Agent: a keep-alive pool per origin, one request per
 * connection at a time, and no redirects (undici follows none unless told to; a 3xx counts as a
 * failure: README, "What a receiver gets"). The address guard runs inside the connector
 * (guarded-connector.ts), so every address a socket uses has passed it; through an egress proxy it
 * runs before the CONNECT, on the address the proxy is asked to reach (egress-proxy.ts).
 */
export class DeliveryClient {
  private readonly agent: Dispatcher;
  private readonly proxy: EgressProxy | undefined;
  private readonly maxResponseBytes: number;
  private readonly maxResponseHeaderBytes: number;
  private readonly userAgent: string;
  private readonly targets = new Map<string, Target>();
  private readonly timers = new RequestTimers();
  /** The lock's check at the socket write (write-gate.ts); through a proxy, undici's tunnel sockets are not gated. */
  private readonly gate = new WriteGate();

  constructor(options: DeliveryClientOptions) {
    this.maxResponseBytes = options.maxResponseBytes ?? 64 * 1024;
    this.maxResponseHeaderBytes = options.maxResponseHeaderBytes ?? 8 * 1024;
    this.userAgent = options.userAgent ?? `Lockstep/${VERSION}`;
    const resolve = options.resolve ?? ((hostname, lookupOptions) => dns.lookup(hostname, lookupOptions));
    const agentOptions: Agent.Options = {
      connections: options.connections ?? null,
      pipelining: 1,
      // Below the 5 s idle timeout of Node and Apache servers (undici also honours a Keep-Alive
      // hint), so a POST is rarely written into a connection the receiver is closing.
      keepAliveTimeout: 4_000,
      keepAliveMaxTimeout: 60_000,
      // Each request carries its own deadline (timeoutMs); undici's fixed 300 s timers would only
      // report the same thing as a different error.
      headersTimeout: 0,
      bodyTimeout: 0,
    };
    this.proxy = options.proxy ? new EgressProxy(options.proxy, agentOptions, options.guard, resolve) : undefined;
    this.agent = this.proxy?.agent ?? new Agent({ ...agentOptions, connect: this.gate.connector(guardedConnector(options.guard, resolve)) });
  }

  /**
   * One POST. Never throws for a request problem: every outcome is a DeliveryResult. Dispatched
   * with a handler of our own (exchange.ts) rather than `request()`: no response stream, abort
   * controller or promise per step on the hot path.
   */
  async send(request: DeliveryRequest): Promise<DeliveryResult> {
    const started = performance.now();
    const exchange = new Exchange(request.signal, request.timeoutMs, this.timers, this.maxResponseBytes, request.mayWrite, this.gate);
    // A lock lost before the send: nothing at all goes out.
    if (!exchange.ended) {
      try {
        const { url, path, origin: direct } = this.target(request.url);
        // through a proxy: the checked address, the name kept in the Host header
        const origin = this.proxy ? await this.proxy.origin(url) : direct;
        const headers = this.headersFor(request, this.proxy ? url.host : undefined);
        if (!exchange.ended) this.agent.dispatch({ origin, path, method: 'POST', headers, body: request.body }, exchange);
      } catch (error) {
        exchange.failedToDispatch(error);
      }
    }
    const { failure, statusCode, headers, body } = await exchange.done;
    const durationMs = Math.round((performance.now() - started) * 10) / 10;
    // undici puts a pipelining-1 connection back in the pool one event-loop turn after the
    // response ends (to notice a server closing it despite keep-alive). Returning before then
    // would make the caller's next request to this receiver open a second connection.
    if (!failure) await nextTurn();
    // What did arrive is kept: a status and half a body say more about a failure than nothing.
    const answered = statusCode !== null;
    return {
      statusCode,
      errorKind: failure?.kind ?? null,
      error: failure?.error ?? null,
      durationMs,
      responseHeaders: answered ? boundedHeaders(headers, this.maxResponseHeaderBytes) : {},
      responseBody: body,
      retryAfterMs: answered ? parseRetryAfter(headers['retry-after']) : null,
    };
  }

  /** Waits for requests in flight (each bounded by its timeout), then closes every connection. */
  close(): Promise<void> {
    return this.agent.close();
  }

  /** A receiver's URL, parsed once rather than per request (a bounded cache: emptied when full). */
  private target(text: string): Target {
    let target = this.targets.get(text);
    if (target) return target;
    const url = new URL(text);
    target = { url, origin: url.origin, path: `${url.pathname}${url.search}` };
    if (this.targets.size >= MAX_TARGETS) this.targets.clear();
    this.targets.set(text, target);
    return target;
  }

  /** The caller's headers (names lower-cased so none is sent twice), our user-agent unless given, and always JSON. */
  private headersFor(request: DeliveryRequest, host: string | undefined): Record<string, string> {
    const headers: Record<string, string> = { 'user-agent': this.userAgent };
    for (const name of Object.keys(request.headers)) headers[name.toLowerCase()] = request.headers[name] as string;
    headers['content-type'] = 'application/json';
    if (host) headers.host = host;
    return headers;
  }
}

interface Target {
  url: URL;
  origin: string;
  path: string;
}
/** Receiver URLs kept parsed; beyond this many the cache starts again (a fleet's receivers, not every URL ever seen). */
const MAX_TARGETS = 10_000;
