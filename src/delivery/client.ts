import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { isIP } from 'node:net';
import { Agent } from 'undici';
import type { AddressGuard } from './address-guard.js';

export interface DeliveryRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  /** The lock's `lost` signal: aborting it aborts the request at once. */
  signal: AbortSignal;
}

export interface DeliveryResult {
  /** null when no response came. */
  statusCode: number | null;
  errorKind: 'timeout' | 'aborted' | 'network' | 'blocked-address' | null;
  error: string | null;
  durationMs: number;
  /** Response headers, bounded in total size. */
  responseHeaders: Record<string, string>;
  /** The first bytes of the response body (utf8, possibly cut). */
  responseBody: string;
  /** `Retry-After` (seconds or HTTP date) in ms, when the receiver sent one. */
  retryAfterMs: number | null;
}

export interface DeliveryClientOptions {
  guard: AddressGuard;
  maxResponseBytes?: number;
  maxResponseHeaderBytes?: number;
  userAgent?: string;
}

const BLOCKED = 'ELOCKSTEP_BLOCKED_ADDRESS';

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * Sends webhooks with one undici Agent (keep-alive pools per origin). Redirects are never
 * followed. The address guard runs inside the connection's DNS lookup, on the addresses the
 * socket will actually use, and on IP literals before any connection is made.
 */
export class DeliveryClient {
  private readonly agent: Agent;
  private readonly maxResponseBytes: number;
  private readonly maxResponseHeaderBytes: number;

  constructor(private readonly options: DeliveryClientOptions) {
    this.maxResponseBytes = options.maxResponseBytes ?? 64 * 1024;
    this.maxResponseHeaderBytes = options.maxResponseHeaderBytes ?? 8 * 1024;
    this.agent = new Agent({ keepAliveTimeout: 10_000, keepAliveMaxTimeout: 60_000, pipelining: 1, connect: { lookup: this.guardedLookup } });
  }

  async send(request: DeliveryRequest): Promise<DeliveryResult> {
    const started = performance.now();
    const timeout = AbortSignal.timeout(request.timeoutMs);
    const signal = AbortSignal.any([request.signal, timeout]);
    try {
      const url = new URL(request.url);
      const literal = url.hostname.replace(/^\[|\]$/g, '');
      const blocked = isIP(literal) ? this.options.guard.check(literal) : null;
      if (blocked) return failure(started, 'blocked-address', `address ${literal} is blocked (${blocked}); allow it with LOCKSTEP_ALLOW_CIDRS`);
      const response = await this.agent.request({
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method: 'POST',
        headers: { 'user-agent': this.options.userAgent ?? 'Lockstep', ...request.headers },
        body: request.body,
        signal,
      });
      const responseBody = await readBounded(response.body, this.maxResponseBytes);
      return {
        statusCode: response.statusCode,
        errorKind: null,
        error: null,
        durationMs: elapsed(started),
        responseHeaders: boundedHeaders(response.headers, this.maxResponseHeaderBytes),
        responseBody,
        retryAfterMs: parseRetryAfter(response.headers['retry-after']),
      };
    } catch (error) {
      if (request.signal.aborted) return failure(started, 'aborted', `aborted: ${reasonText(request.signal.reason)}`);
      if (timeout.aborted) return failure(started, 'timeout', `timed out after ${request.timeoutMs} ms`);
      const blocked = findCause(error, (e) => e.code === BLOCKED);
      if (blocked) return failure(started, 'blocked-address', blocked.message);
      return failure(started, 'network', describe(error));
    }
  }

  close(): Promise<void> {
    return this.agent.close();
  }

  /** dns.lookup, refusing any resolved address the guard blocks (covers every family and `all`). */
  private readonly guardedLookup = (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, []);
      const list = addresses as LookupAddress[];
      const refused = list.map((a) => [a.address, this.options.guard.check(a.address)] as const).find(([, reason]) => reason);
      if (refused) {
        const blocked: NodeJS.ErrnoException = new Error(`${hostname} resolves to ${refused[0]}, a blocked address (${refused[1]}); allow it with LOCKSTEP_ALLOW_CIDRS`);
        blocked.code = BLOCKED;
        return callback(blocked, []);
      }
      if (options.all) return callback(null, list);
      const first = list[0] as LookupAddress;
      return callback(null, first.address, first.family);
    });
  };
}

async function readBounded(body: AsyncIterable<Buffer> & { destroy(): void }, maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= maxBytes) {
      body.destroy(); // the rest is not kept; closing costs less than reading megabytes
      break;
    }
  }
  return Buffer.concat(chunks).subarray(0, maxBytes).toString('utf8');
}

function boundedHeaders(headers: Record<string, string | string[] | undefined>, maxBytes: number): Record<string, string> {
  const kept: Record<string, string> = {};
  let size = 0;
  for (const [name, value] of Object.entries(headers)) {
    const text = Array.isArray(value) ? value.join(', ') : (value ?? '');
    size += name.length + text.length;
    if (size > maxBytes) break;
    kept[name] = text;
  }
  return kept;
}

export function parseRetryAfter(value: string | string[] | undefined): number | null {
  const text = Array.isArray(value) ? value[0] : value;
  if (!text) return null;
  if (/^\d+$/.test(text.trim())) return Number(text.trim()) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? null : Math.max(0, date - Date.now());
}

function failure(started: number, errorKind: NonNullable<DeliveryResult['errorKind']>, error: string): DeliveryResult {
  return { statusCode: null, errorKind, error, durationMs: elapsed(started), responseHeaders: {}, responseBody: '', retryAfterMs: null };
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}

function reasonText(reason: unknown): string {
  return reason instanceof Error ? reason.message : String(reason);
}

function findCause(error: unknown, match: (e: NodeJS.ErrnoException) => boolean): NodeJS.ErrnoException | undefined {
  for (let current = error; current instanceof Error; current = current.cause) {
    if (match(current as NodeJS.ErrnoException)) return current as NodeJS.ErrnoException;
  }
  return undefined;
}

function describe(error: unknown): string {
  const coded = findCause(error, (e) => typeof e.code === 'string' && e.code.startsWith('E'));
  if (coded) return `${coded.code}: ${coded.message}`;
  return error instanceof Error ? error.message : String(error);
}
