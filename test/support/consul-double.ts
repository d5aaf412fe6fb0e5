/**
 * TEST DOUBLE — THIS IS NOT CONSUL. No Consul server can be installed on this machine, so this
 * small node:http server implements, after Consul's documented HTTP API, ONLY the endpoints
 * Lockstep's Consul backend uses, so that the backend's real code runs in CI. Passing against it
 * proves the backend speaks the protocol as documented; it proves nothing about Consul itself (Raft,
 * leader changes, late session expiry): run the contract suite with LOCKSTEP_CONSUL_ADDR for that.
 *
 *   PUT    /v1/session/create          {Name, TTL, Behavior: "delete"|"release", LockDelay}  → {ID}
 *                                      TTL under the minimum → 400, as Consul's session_ttl_min does
 *   PUT    /v1/session/renew/:id       200 [session] | 404 when the session is gone
 *   PUT    /v1/session/destroy/:id     true
 *   GET    /v1/kv/:key[?recurse][&consistent][&index=N&wait=D]   blocking queries, X-Consul-Index; 404 when absent
 *   PUT    /v1/kv/:key?acquire=:id     true | false (held by another session, or in lock-delay); 500 for an unknown session
 *   PUT    /v1/kv/:key?release=:id     true | false
 *   DELETE /v1/kv/:key[?cas=N]         true | false (cas must equal ModifyIndex; cas=0 never deletes)
 *   GET    /v1/status/leader           "127.0.0.1:8300"
 *
 * Semantics kept: a session expires when its TTL passes without renewal (real Consul may take up
 * to 2 × TTL; the double expires it at TTL, the strict end), its keys are then deleted or released
 * per Behavior and cannot be acquired again until its lock-delay (default 15 s) has passed;
 * ModifyIndex is one Raft-like index shared by all writes; LockIndex counts acquisitions of a key.
 * Not modelled: health checks (sessions here end only by TTL or destroy), ACLs, datacenters.
 *
 * The minimum session TTL is Consul's default 10 s unless `start({ minSessionTtlMs })` lowers it,
 * which a real server allows through its `session_ttl_min` setting: tests use that to fail over in
 * seconds. `expireSession(id)` ends a session at once, as a TTL running out would.
 * `ConsulDouble.start()` runs it in the test's own process; `ConsulDoubleProcess.start()` in a
 * child process of its own, as a real agent would be.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ChildServer } from './child-server.js';
import { freePort } from './ports.js';

interface Session {
  id: string;
  ttlMs: number;
  behavior: 'delete' | 'release';
  lockDelayMs: number;
  expiresAt: number;
}

interface Entry {
  Key: string;
  Value: string | null;
  Flags: number;
  Session?: string;
  LockIndex: number;
  CreateIndex: number;
  ModifyIndex: number;
}

export class ConsulDouble {
  private index = 1;
  private readonly sessions = new Map<string, Session>();
  private readonly kv = new Map<string, Entry>();
  /** The index of the last write that touched each key (deletions included). */
  private readonly touched = new Map<string, number>();
  private readonly lockDelayUntil = new Map<string, number>();
  private readonly waiters = new Set<() => void>();
  private readonly expiry: NodeJS.Timeout;

  private constructor(
    private readonly server: Server,
    private readonly minSessionTtlMs: number,
  ) {
    this.expiry = setInterval(() => this.expireSessions(), 20);
  }

  /** Starts the double in this process, on `port` (default: any free one). */
  static async start({ minSessionTtlMs = 10_000, port = 0 }: { minSessionTtlMs?: number; port?: number } = {}): Promise<ConsulDouble> {
    // the handler runs only once the server listens, after `double` exists
    const server = createServer((request, response) => void double.handle(request, response));
    const double = new ConsulDouble(server, minSessionTtlMs);
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    return double;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The ids of the live sessions, oldest first. */
  sessionIds(): string[] {
    return [...this.sessions.keys()];
  }

  /** Ends a session now, exactly as its TTL running out would (keys deleted or released, lock-delay). */
  expireSession(id: string): void {
    const session = this.sessions.get(id);
    if (session) this.invalidate(session);
  }

  async close(): Promise<void> {
    clearInterval(this.expiry);
    for (const wake of this.waiters) wake();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://double');
    let body = '';
    for await (const chunk of request) body += chunk;
    const send = (status: number, payload: unknown, index?: number): void => {
      response.writeHead(status, { 'content-type': 'application/json', ...(index ? { 'x-consul-index': String(index) } : {}) });
      response.end(payload === undefined ? '' : JSON.stringify(payload));
    };
    const path = url.pathname;
    if (path === '/v1/status/leader') return send(200, '127.0.0.1:8300');
    if (path === '/v1/session/create' && request.method === 'PUT') {
      const created = this.createSession(body ? (JSON.parse(body) as Record<string, unknown>) : {});
      return typeof created === 'string' ? send(400, created) : send(200, created);
    }
    const sessionMatch = /^\/v1\/session\/(renew|destroy)\/(.+)$/.exec(path);
    if (sessionMatch && request.method === 'PUT') return this.sessionCall(sessionMatch[1] as string, sessionMatch[2] as string, send);
    if (path.startsWith('/v1/kv/')) return this.kvCall(request.method ?? 'GET', decodeURIComponent(path.slice('/v1/kv/'.length)), url.searchParams, body, send);
    send(404, `no such endpoint in the Consul test double: ${request.method} ${path}`);
  }

  private createSession(spec: Record<string, unknown>): { ID: string } | string {
    const ttlMs = duration(spec.TTL, 0);
    if (ttlMs && ttlMs < this.minSessionTtlMs) return `Invalid Session TTL '${String(spec.TTL)}', must be at least ${this.minSessionTtlMs} ms`;
    const id = randomUUID();
    this.sessions.set(id, {
      id,
      ttlMs: ttlMs || Infinity,
      behavior: spec.Behavior === 'delete' ? 'delete' : 'release',
      lockDelayMs: duration(spec.LockDelay, 15_000),
      expiresAt: Date.now() + (ttlMs || Infinity),
    });
    this.index++;
    return { ID: id };
  }

  private sessionCall(verb: string, id: string, send: (status: number, payload: unknown) => void): void {
    const session = this.sessions.get(id);
    if (verb === 'destroy') {
      if (session) this.invalidate(session);
      return send(200, true);
    }
    if (!session) return send(404, `Session id '${id}' not found`);
    session.expiresAt = Date.now() + session.ttlMs;
    send(200, [{ ID: id, TTL: `${session.ttlMs / 1000}s` }]);
  }

  private async kvCall(
    method: string,
    key: string,
    query: URLSearchParams,
    body: string,
    send: (status: number, payload: unknown, index?: number) => void,
  ): Promise<void> {
    if (method === 'GET') {
      const recurse = query.has('recurse');
      const wanted = Number(query.get('index') ?? 0);
      if (wanted > 0) await this.waitForChange(key, recurse, wanted, duration(query.get('wait'), 300_000));
      const entries = recurse ? [...this.kv.values()].filter((e) => e.Key.startsWith(key)) : [this.kv.get(key)].filter((e): e is Entry => e !== undefined);
      const index = Math.max(1, this.changeIndex(key, recurse));
      return entries.length ? send(200, entries, index) : send(404, undefined, index);
    }
    if (method === 'PUT' && query.has('acquire')) {
      const sessionId = query.get('acquire') as string;
      if (!this.sessions.has(sessionId)) return send(500, `invalid session "${sessionId}"`);
      return send(200, this.acquire(key, sessionId, body));
    }
    if (method === 'PUT' && query.has('release')) return send(200, this.release(key, query.get('release') as string));
    if (method === 'DELETE') {
      const entry = this.kv.get(key);
      const cas = query.get('cas');
      if (cas !== null && (Number(cas) === 0 || entry?.ModifyIndex !== Number(cas))) return send(200, false);
      if (entry) this.write(key, undefined);
      return send(200, true);
    }
    send(405, `method not supported by the Consul test double: ${method}`);
  }

  private acquire(key: string, sessionId: string, body: string): boolean {
    const entry = this.kv.get(key);
    if (entry?.Session && entry.Session !== sessionId) return false;
    if ((this.lockDelayUntil.get(key) ?? 0) > Date.now()) return false;
    const value = Buffer.from(body).toString('base64');
    const lockIndex = (entry?.LockIndex ?? 0) + (entry?.Session === sessionId ? 0 : 1);
    this.write(key, { Key: key, Value: value, Flags: 0, Session: sessionId, LockIndex: lockIndex, CreateIndex: entry?.CreateIndex ?? 0, ModifyIndex: 0 });
    return true;
  }

  private release(key: string, sessionId: string): boolean {
    const entry = this.kv.get(key);
    if (!entry || entry.Session !== sessionId) return false;
    const { Session: _, ...rest } = entry;
    this.write(key, rest);
    return true;
  }

  private write(key: string, entry: Entry | undefined): void {
    const index = ++this.index;
    if (entry) this.kv.set(key, { ...entry, CreateIndex: entry.CreateIndex || index, ModifyIndex: index });
    else this.kv.delete(key);
    this.touched.set(key, index);
    for (const wake of [...this.waiters]) wake();
  }

  private changeIndex(key: string, recurse: boolean): number {
    if (!recurse) return this.touched.get(key) ?? this.index;
    return Math.max(0, ...[...this.touched].filter(([k]) => k.startsWith(key)).map(([, index]) => index));
  }

  private waitForChange(key: string, recurse: boolean, wanted: number, waitMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const check = (): void => {
        if (this.changeIndex(key, recurse) > wanted) done();
      };
      const timer = setTimeout(done, waitMs);
      this.waiters.add(check);
      check();
    });
  }

  private expireSessions(): void {
    const now = Date.now();
    for (const session of [...this.sessions.values()]) if (session.expiresAt <= now) this.invalidate(session);
  }

  private invalidate(session: Session): void {
    this.sessions.delete(session.id);
    for (const entry of [...this.kv.values()]) {
      if (entry.Session !== session.id) continue;
      this.lockDelayUntil.set(entry.Key, Date.now() + session.lockDelayMs);
      if (session.behavior === 'delete') this.write(entry.Key, undefined);
      else this.release(entry.Key, session.id);
    }
  }
}

/**
 * The double in its own process, like a real agent: tests with many clients then do not share
 * one event loop with the server. Controls (`expireSession`) exist only in-process.
 */
export class ConsulDoubleProcess extends ChildServer {
  private constructor(
    port: number,
    private readonly minSessionTtlMs: number,
  ) {
    super(port, 'consul-double');
  }

  static async start({ minSessionTtlMs = 10_000 }: { minSessionTtlMs?: number } = {}): Promise<ConsulDoubleProcess> {
    const double = new ConsulDoubleProcess(await freePort(), minSessionTtlMs);
    await double.start();
    return double;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  protected command(): [string, string[]] {
    return [process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), String(this.port), String(this.minSessionTtlMs)]];
  }

  protected async ready(): Promise<boolean> {
    return (await fetch(`${this.url}/v1/status/leader`)).ok;
  }
}

// run as a program (by ConsulDoubleProcess): node --import tsx consul-double.ts <port> <minSessionTtlMs>
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [port, minSessionTtlMs] = process.argv.slice(2).map(Number);
  await ConsulDouble.start({ port, minSessionTtlMs });
}

/** Consul durations: "10s", "1500ms", "1m", "0s". */
function duration(value: unknown, fallback: number): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(typeof value === 'string' ? value : '');
  if (!match) return fallback;
  return Number(match[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] as 'ms' | 's' | 'm' | 'h'];
}
