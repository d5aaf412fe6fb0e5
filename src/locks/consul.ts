import { acquireWithin, HeldLockRegistry, sleep, type TrackedLock } from './held-lock.js';
import type { AcquireOptions, HeldLock, LockBackendOptions, LockHolder, LockStats, ReceiverLocks } from './types.js';

/** Consul refuses session TTLs under 10 s. */
const MIN_SESSION_TTL_S = 10;
/** Lock-delay after a session is invalidated. Fences and our local deadline already keep a stale holder out; a short delay is a last margin. */
const LOCK_DELAY = '1s';
const REQUEST_TIMEOUT_MS = 5000;

interface KvEntry {
  Key: string;
  Value: string | null;
  Session?: string;
  LockIndex: number;
  ModifyIndex: number;
}

class ConsulError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/**
 * Consul backend, on Consul's documented HTTP API (no client library needed): ONE session per
 * process (`Behavior: "delete"`, so keys of a dead emitter disappear and waiters are woken by
 * their blocking query; no node health checks, so only the TTL decides), renewed every
 * min(session TTL / 2, lock TTL / 3). A receiver is taken with `PUT /v1/kv/<key>?acquire=<session>`;
 * its fence is the key's ModifyIndex read consistently right after (a Raft index, so it only
 * grows, even across the key being deleted and created again, unlike LockIndex).
 *
 * Consul's session TTL is at least 10 s and Consul may expire a session up to 2 × TTL late, so
 * with a shorter lock TTL the server lets go later than our local deadline: safe (we stop first),
 * but failover after a crash takes 10–20 s on Consul. Keys are released before the session is
 * destroyed, so a clean shutdown hands receivers over at once (lock-delay only follows invalidation).
 */
export class ConsulReceiverLocks implements ReceiverLocks {
  readonly backend = 'consul' as const;
  private readonly held: HeldLockRegistry;
  private readonly base: string;
  private readonly sessionTtlS: number;
  private session = '';
  private heartbeat: NodeJS.Timeout | undefined;
  private renewing = false;
  private readonly stopped = new AbortController();

  constructor(
    addr: string,
    private readonly options: LockBackendOptions,
  ) {
    this.base = addr.replace(/\/+$/, '');
    this.held = new HeldLockRegistry(options.ttlMs);
    this.sessionTtlS = Math.max(MIN_SESSION_TTL_S, Math.ceil(options.ttlMs / 1000));
  }

  async start(): Promise<void> {
    await this.createSession();
    const every = Math.min((this.sessionTtlS * 1000) / 2, this.options.ttlMs / 3);
    this.heartbeat = setInterval(() => void this.renew(), Math.max(100, Math.floor(every)));
    this.heartbeat.unref();
  }

  acquire(receiverId: string, options: AcquireOptions): Promise<HeldLock | null> {
    const pollMs = Math.max(50, Math.min(1000, Math.floor(this.options.ttlMs / 4)));
    return acquireWithin(() => this.tryAcquire(receiverId), (ms, signal) => this.waitForChange(receiverId, ms, signal), options, pollMs);
  }

  async release(lock: HeldLock): Promise<void> {
    if (!this.held.releasing(lock)) return;
    const key = this.keyPath(lock.receiverId);
    // release, then delete only if nobody took it in between (cas on the released version)
    await this.call('PUT', `${key}?release=${this.session}`)
      .then(() => this.read(lock.receiverId))
      .then((entry) => (entry && !entry.Session ? this.call('DELETE', `${key}?cas=${entry.ModifyIndex}`) : undefined))
      .catch(() => {}); // unreachable Consul: the session's TTL frees the key
  }

  async holders(): Promise<LockHolder[]> {
    const entries = (await this.call<KvEntry[] | null>('GET', `${this.keyPath('')}?recurse&consistent`, undefined, [404])) ?? [];
    const prefix = `${this.options.prefix}/locks/`;
    return entries
      .filter((entry) => entry.Session)
      .map((entry) => ({ receiverId: entry.Key.slice(prefix.length), fence: entry.ModifyIndex, ...decodeHolder(entry.Value) }))
      .sort((a, b) => a.receiverId.localeCompare(b.receiverId));
  }

  async ping(): Promise<boolean> {
    return this.call('GET', '/v1/status/leader').then(() => true, () => false);
  }

  stats(): LockStats {
    return this.held.stats();
  }

  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    await Promise.all(this.held.all().map((lock) => this.release(lock)));
    this.stopped.abort();
    if (this.session) await this.call('PUT', `/v1/session/destroy/${this.session}`).catch(() => {});
  }

  private async createSession(): Promise<void> {
    const { ID } = await this.call<{ ID: string }>('PUT', '/v1/session/create', {
      Name: `lockstep ${this.options.emitterId}`,
      TTL: `${this.sessionTtlS}s`,
      Behavior: 'delete',
      LockDelay: LOCK_DELAY,
      Checks: [], // no serfHealth: only the TTL decides, as with the other backends
    });
    this.session = ID;
  }

  private async renew(): Promise<void> {
    if (this.renewing || !this.session) return;
    this.renewing = true;
    const locks = this.held.all();
    const sentAt = Date.now();
    try {
      await this.call('PUT', `/v1/session/renew/${this.session}`);
      this.held.renewed(locks, sentAt);
    } catch (error) {
      const gone = error instanceof ConsulError && error.status === 404;
      this.held.loseAll(gone ? 'renewal-refused' : 'renewal-failed');
      if (gone) await this.createSession().catch(() => {}); // the next heartbeat tries again
    } finally {
      this.renewing = false;
    }
  }

  private async tryAcquire(receiverId: string): Promise<HeldLock | null> {
    this.held.attempting(receiverId);
    const sentAt = Date.now();
    const holder = { emitterId: this.options.emitterId, since: new Date(sentAt).toISOString() };
    const taken = await this.call<boolean>('PUT', `${this.keyPath(receiverId)}?acquire=${this.session}`, holder);
    if (!taken) return null;
    const entry = await this.read(receiverId);
    if (entry?.Session !== this.session) return null; // lost in the instant between: not ours
    const lock = this.held.add(receiverId, entry.ModifyIndex, sentAt);
    void this.watchHeld(lock, entry.ModifyIndex);
    return lock;
  }

  /** Blocking queries on a held key: it disappearing or changing session means the lock is gone. */
  private async watchHeld(lock: TrackedLock, index: number): Promise<void> {
    let seen = index;
    while (!lock.lost.aborted) {
      try {
        const { entry, index: next } = await this.blockingRead(lock.receiverId, seen, lock.lost);
        if (lock.lost.aborted) return;
        if (entry?.Session !== this.session) return lock.lose('stolen');
        seen = next;
      } catch {
        await sleep(200, lock.lost); // Consul unreachable: renewals and the local deadline decide
      }
    }
  }

  private async waitForChange(receiverId: string, ms: number, signal: AbortSignal | undefined): Promise<void> {
    const stop = AbortSignal.any([AbortSignal.timeout(ms), this.stopped.signal, ...(signal ? [signal] : [])]);
    try {
      const current = await this.read(receiverId);
      if (!current?.Session) return;
      await this.blockingRead(receiverId, current.ModifyIndex, stop, ms);
    } catch {
      await sleep(ms, stop);
    }
  }

  private async read(receiverId: string): Promise<KvEntry | undefined> {
    const entries = await this.call<KvEntry[] | null>('GET', `${this.keyPath(receiverId)}?consistent`, undefined, [404]);
    return entries?.[0];
  }

  /** `GET ?index=N&wait=…`: returns once the key changes past N (or the wait ends). */
  private async blockingRead(receiverId: string, index: number, signal: AbortSignal, waitMs = 30_000): Promise<{ entry: KvEntry | undefined; index: number }> {
    const response = await fetch(`${this.base}${this.keyPath(receiverId)}?index=${index}&wait=${Math.max(1, Math.ceil(waitMs / 1000))}s`, { signal: AbortSignal.any([signal, this.stopped.signal]) });
    const next = Number(response.headers.get('x-consul-index') ?? index);
    if (response.status === 404) return { entry: undefined, index: next };
    if (!response.ok) throw new ConsulError(response.status, await response.text());
    return { entry: ((await response.json()) as KvEntry[])[0], index: next < index ? 0 : next };
  }

  private async call<T = unknown>(method: string, path: string, body?: unknown, emptyOn: number[] = []): Promise<T> {
    const response = await fetch(`${this.base}${path}`, {
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(Math.min(REQUEST_TIMEOUT_MS, this.options.ttlMs)),
    });
    if (emptyOn.includes(response.status)) return null as T;
    if (!response.ok) throw new ConsulError(response.status, `consul ${method} ${path}: ${response.status} ${await response.text()}`);
    const text = await response.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  private keyPath(receiverId: string): string {
    return `/v1/kv/${this.options.prefix}/locks/${receiverId}`;
  }
}

function decodeHolder(value: string | null): { emitterId: string; since: string } {
  try {
    return JSON.parse(Buffer.from(value ?? '', 'base64').toString('utf8')) as { emitterId: string; since: string };
  } catch {
    return { emitterId: 'unknown', since: '' };
  }
}
