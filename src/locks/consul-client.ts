import { consulSessionGone } from '../dependency-errors.js';
import { LockstepError } from '../errors.js';
import { linkSignals } from '../lib/abort.js';
import { lockFailure } from './failure.js';

export const REQUEST_TIMEOUT_MS = 5000;

export interface KvEntry {
  Key: string;
  Value: string | null;
  Session?: string;
  LockIndex: number;
  ModifyIndex: number;
}

/** A key's state as of a Consul index (`X-Consul-Index`), for the next blocking query. */
export interface KeyRead {
  entry: KvEntry | undefined;
  index: number;
}

/** Consul answered a request with an error status (a lock backend failure that keeps the status). */
export class ConsulError extends LockstepError {
  /** Consul no longer knows the session the request named (expired or destroyed). */
  readonly sessionGone: boolean;

  constructor(
    readonly status: number,
    what: string,
    body: string,
  ) {
    super('LOCKSTEP_LOCK_BACKEND', 503, `consul ${what}: ${status} ${body}`);
    this.sessionGone = consulSessionGone(body);
  }
}

/** Consul refused a request because it no longer knows its session. */
export function sessionGone(error: unknown): boolean {
  return error instanceof ConsulError && error.sessionGone;
}

/**
 * The few calls of Consul's documented HTTP API the lock backend needs, on plain fetch: JSON in
 * and out, a timeout on every request, `CONSUL_HTTP_TOKEN` as Consul's own CLI reads it. Every
 * failure (no answer, an error status, a body that is not JSON) leaves as a LockstepError.
 */
export class ConsulClient {
  private readonly base: string;
  private readonly headers: Record<string, string>;

  constructor(
    addr: string,
    /** Each request's timeout unless the call says otherwise. */
    private readonly timeoutMs = REQUEST_TIMEOUT_MS,
  ) {
    this.base = addr.replace(/\/+$/, '');
    const token = process.env.CONSUL_HTTP_TOKEN;
    this.headers = { 'content-type': 'application/json', ...(token ? { 'x-consul-token': token } : {}) };
  }

  async call<T>(method: string, path: string, body?: unknown, timeoutMs = this.timeoutMs): Promise<T> {
    return this.exchange(method, path, { body, timeoutMs }, (response) => this.json<T>(response, `${method} ${path}`));
  }

  /** A KV read (plain, or a blocking query when the path carries `?index=`) as entry + index. */
  readKey(path: string, previous: number, timeoutMs = this.timeoutMs, signals: (AbortSignal | undefined)[] = []): Promise<KeyRead> {
    return this.exchange('GET', path, { timeoutMs, signals }, async (response) => {
      const index = Number(response.headers.get('x-consul-index'));
      let entries: KvEntry[] | undefined;
      if (response.status === 404)
        await response.text(); // no such key; read the body so the connection is reused
      else entries = await this.json<KvEntry[]>(response, 'GET key');
      // Consul: an index that went backwards (or is missing) means start over from 0
      return { entry: entries?.[0], index: Number.isSafeInteger(index) && index > 0 && index >= previous ? index : 0 };
    });
  }

  /** Every entry under a key prefix (`?recurse`); none when there is no such key. */
  list(path: string): Promise<KvEntry[]> {
    return this.exchange('GET', path, {}, async (response) => {
      if (response.status !== 404) return (await this.json<KvEntry[]>(response, 'GET list')) ?? [];
      await response.text();
      return [];
    });
  }

  /** One request, its answer read by `read`, all under the timeout and the caller's signals. */
  private async exchange<T>(
    method: string,
    path: string,
    { body, timeoutMs = this.timeoutMs, signals = [] }: { body?: unknown; timeoutMs?: number; signals?: (AbortSignal | undefined)[] },
    read: (response: Response) => Promise<T>,
  ): Promise<T> {
    // not AbortSignal.any: it would leave a record on the long-lived signals for every request
    const linked = linkSignals(AbortSignal.timeout(timeoutMs), ...signals);
    try {
      const init = { method, headers: this.headers, signal: linked.signal, ...(body === undefined ? {} : { body: JSON.stringify(body) }) };
      return await read(await fetch(`${this.base}${path}`, init));
    } catch (error) {
      throw lockFailure('consul', error, this.base);
    } finally {
      linked.dispose();
    }
  }

  private async json<T>(response: Response, what: string): Promise<T> {
    const text = await response.text();
    if (!response.ok) throw new ConsulError(response.status, what, text);
    return (text ? JSON.parse(text) : undefined) as T;
  }
}
