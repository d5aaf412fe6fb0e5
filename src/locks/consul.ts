import { acquireWithin, AttemptGuard, HeldLockRegistry, SessionKeeper, sleep, type LockSession, type TrackedLock } from './held-lock.js';
import type { AcquireOptions, HeldLock, LockBackendOptions, LockHolder, LockStats, ReceiverLocks } from './types.js';

/** Consul's default `session_ttl_min`: a real agent refuses shorter session TTLs. */
const CONSUL_MIN_SESSION_TTL_S = 10;
/**
 * Lock-delay after our session is invalidated. Consul's 15 s default exists to keep a stale holder
 * out; here fences and the local deadline (which has already stopped us) do that, so a short delay
 * only adds a last margin to failover. Clean releases never trigger it.
 */
const LOCK_DELAY = '1s';
/** While a free key refuses us (its lock-delay, which ends without any write to wake us), retry this often. */
const LOCK_DELAY_RETRY_MS = 250;
/** Blocking queries on held keys: long, but well inside undici's 300 s headers timeout. */
const WATCH_WAIT_MS = 60_000;
const REQUEST_TIMEOUT_MS = 5000;

interface KvEntry {
  Key: string;
  Value: string | null;
  Session?: string;
  LockIndex: number;
  ModifyIndex: number;
}

interface ConsulSession extends LockSession {
  readonly id: string;
}

/** A key's state as of a Consul index (`X-Consul-Index`), for the next blocking query. */
interface KeyRead {
  entry: KvEntry | undefined;
  index: number;
}

export interface ConsulTuning {
  /**
   * The shortest session TTL to ask for, in seconds. Consul servers refuse TTLs under their
   * `session_ttl_min` (10 s unless configured lower); lower this only for a server configured so,
   * or for the test double.
   */
  minSessionTtlS?: number;
}

class ConsulError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/**
 * Consul backend, on Consul's documented HTTP API with plain fetch. ONE session per process,
 * `Behavior: "delete"` and no health checks (only its TTL ends it, as with the other backends).
 * A receiver is taken with `PUT /v1/kv/<key>?acquire=<session>`; the fence is the key's ModifyIndex,
 * read consistently right after (a Raft index, so it grows across the key being deleted and
 * created again, which LockIndex does not). Waiters and held keys use blocking queries: a held key
 * whose Session changes or that disappears is lost at once ('stolen').
 *
 * Behavior "delete" rather than "release": when a holder dies its key disappears instead of
 * lingering unlocked, so the KV space holds only live locks, and waiters wake the same way. Our
 * own release deletes the key too.
 *
 * TTL: the session TTL is max(Consul's minimum, ceil(lock TTL)), so with a lock TTL under 10 s the
 * session outlives the lock TTL. The local deadline still uses the LOCK TTL (`last confirmed
 * renewal SENT + lock ttl − margin`), as the API promises: the holder stops first, which is safe,
 * and renewals come every min(session TTL / 2, lock TTL / 3) so a healthy holder's deadline keeps
 * moving. The cost is failover after a crash: Consul frees the key when the SESSION expires, and it
 * may expire it up to 2 × its TTL late, so on real Consul a crashed holder's receivers wait 10–20 s
 * (plus the lock-delay), however short the lock TTL is.
 *
 * Loss: a renewal answered 404 (session gone) loses every lock ('renewal-refused'); one that fails
 * otherwise, or a local deadline that passes, loses them all too and the session is destroyed,
 * so its keys do not outlive the locks (see SessionKeeper).
 */
export class ConsulReceiverLocks implements ReceiverLocks {
  readonly backend = 'consul' as const;
  private readonly held: HeldLockRegistry;
  private readonly sessions: SessionKeeper<ConsulSession>;
  private readonly attempts = new AttemptGuard();
  private readonly base: string;
  private readonly sessionTtlS: number;
  private readonly headers: Record<string, string>;
  /** Aborts every blocking query when the backend closes. */
  private readonly stopped = new AbortController();
  /** A renewal may not outlive the lock TTL: one stuck that long has failed. */
  private readonly renewTimeoutMs: number;
  private heartbeat: NodeJS.Timeout | undefined;
  private renewing = false;

  constructor(
    addr: string,
    private readonly options: LockBackendOptions,
    tuning: ConsulTuning = {},
  ) {
    this.base = addr.replace(/\/+$/, '');
    this.held = new HeldLockRegistry(options.ttlMs);
    this.sessions = new SessionKeeper(this.held, () => this.createSession(), (session) => this.destroySession(session));
    this.sessionTtlS = Math.max(tuning.minSessionTtlS ?? CONSUL_MIN_SESSION_TTL_S, Math.ceil(options.ttlMs / 1000));
    this.renewTimeoutMs = Math.min(REQUEST_TIMEOUT_MS, Math.max(1000, options.ttlMs));
    // Consul's own CLI and clients read the ACL token from this variable
    const token = process.env.CONSUL_HTTP_TOKEN;
    this.headers = { 'content-type': 'application/json', ...(token ? { 'x-consul-token': token } : {}) };
  }

  async start(): Promise<void> {
    await this.sessions.session();
    const every = Math.min((this.sessionTtlS * 1000) / 2, this.options.ttlMs / 3);
    this.heartbeat = setInterval(() => void this.renew(), Math.max(100, Math.floor(every)));
    this.heartbeat.unref();
  }

  async acquire(receiverId: string, options: AcquireOptions): Promise<HeldLock | null> {
    // the key's deletion wakes a waiter, expiries included: the poll is only a backstop
    const pollMs = Math.max(250, Math.min(5000, this.options.ttlMs));
    const changes = new KeyChanges((index, waitMs, signal) => this.blockingRead(receiverId, index, waitMs, signal));
    return acquireWithin(() => this.tryAcquire(receiverId), (ms, signal) => changes.wait(ms, signal), options, pollMs);
  }

  async release(lock: HeldLock): Promise<void> {
    const session = this.sessions.live; // every held lock lives under the live session
    if (!this.held.releasing(lock) || !session) return;
    const key = this.keyPath(lock.receiverId);
    try {
      // One step, and only our own key: the delete applies only while the key is exactly as our
      // acquire wrote it (its ModifyIndex is our fence). Deleting it wakes waiters like a release.
      if (await this.call<boolean>('DELETE', `${key}?cas=${lock.fence}`)) return;
      await this.call('PUT', `${key}?release=${session.id}`); // changed since: release it only if still ours
    } catch {
      await this.sessions.abandon(session, 'renewal-failed'); // else the key would outlive its lock
    }
  }

  async holders(): Promise<LockHolder[]> {
    const prefix = `${this.options.prefix}/locks/`;
    const response = await this.request('GET', `${this.keyPath('')}?recurse&consistent`);
    if (response.status === 404) return [];
    const entries = (await this.json<KvEntry[]>(response, 'GET holders')) ?? [];
    return entries
      .filter((entry) => entry.Session)
      .map((entry) => ({ receiverId: entry.Key.slice(prefix.length), fence: entry.ModifyIndex, ...decodeHolder(entry.Value) }))
      .sort((a, b) => a.receiverId.localeCompare(b.receiverId));
  }

  async ping(): Promise<boolean> {
    // the agent answers "" while the cluster has no leader, and then no lock can be taken
    return this.call<string>('GET', '/v1/status/leader', undefined, 1000).then((leader) => Boolean(leader), () => false);
  }

  stats(): LockStats {
    return this.held.stats();
  }

  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    await this.sessions.close(async () => {
      await Promise.all(this.held.all().map((lock) => this.release(lock)));
    });
    this.stopped.abort();
  }

  private async createSession(): Promise<ConsulSession> {
    const sentAt = Date.now();
    const { ID } = await this.call<{ ID: string }>('PUT', '/v1/session/create', {
      Name: `lockstep ${this.options.emitterId}`,
      TTL: `${this.sessionTtlS}s`,
      Behavior: 'delete',
      LockDelay: LOCK_DELAY,
      // no serfHealth: only the TTL ends the session (Consul ≥ 1.7 reads an empty Checks as empty NodeChecks)
      Checks: [],
    });
    return { id: ID, confirmedAt: sentAt, abandoned: false };
  }

  private async destroySession(session: ConsulSession): Promise<void> {
    await this.call('PUT', `/v1/session/destroy/${session.id}`);
  }

  private async renew(): Promise<void> {
    const session = this.sessions.live;
    if (this.renewing || !session) return;
    this.renewing = true;
    const sentAt = Date.now();
    try {
      await this.call('PUT', `/v1/session/renew/${session.id}`, undefined, this.renewTimeoutMs);
      this.sessions.renewed(session, sentAt);
    } catch (error) {
      const gone = error instanceof ConsulError && error.status === 404;
      await this.sessions.abandon(session, gone ? 'renewal-refused' : 'renewal-failed');
    } finally {
      this.renewing = false;
    }
  }

  private async tryAcquire(receiverId: string): Promise<HeldLock | null> {
    this.held.attempting(receiverId);
    return this.attempts.run(receiverId, () => this.sessions.withSession((session) => this.take(session, receiverId), sessionGone));
  }

  /** `?acquire=` then a consistent read of the key, for its ModifyIndex (the fence) and owner. */
  private async take(session: ConsulSession, receiverId: string): Promise<HeldLock | null> {
    const key = this.keyPath(receiverId);
    const holder = { emitterId: this.options.emitterId, since: new Date().toISOString() };
    let entry: KvEntry | undefined;
    try {
      if (!(await this.call<boolean>('PUT', `${key}?acquire=${session.id}`, holder))) return null;
      entry = (await this.read(receiverId)).entry;
    } catch (error) {
      // an acquire we got no answer to may still have been applied: release it if it is ours
      if (!sessionGone(error)) await this.call('PUT', `${key}?release=${session.id}`).catch(() => this.sessions.abandon(session, 'renewal-failed'));
      throw error;
    }
    if (entry?.Session !== session.id) return null; // invalidated in between: not ours any more
    const lock = this.sessions.add(session, receiverId, entry.ModifyIndex);
    if (lock) void this.watchHeld(lock, session, entry.ModifyIndex);
    return lock;
  }

  /** Blocking queries on a held key: it disappearing or changing session means the lock is gone. */
  private async watchHeld(lock: TrackedLock, session: ConsulSession, index: number): Promise<void> {
    let seen = index;
    while (!lock.lost.aborted) {
      try {
        const { entry, index: next } = await this.blockingRead(lock.receiverId, seen, WATCH_WAIT_MS, lock.lost);
        if (entry?.Session !== session.id) return lock.lose('stolen');
        seen = next;
      } catch {
        await sleep(LOCK_DELAY_RETRY_MS, AbortSignal.any([lock.lost, this.stopped.signal])); // unreachable: renewals and the deadline decide
        if (this.stopped.signal.aborted) return;
      }
    }
  }

  private async read(receiverId: string): Promise<KeyRead> {
    return this.keyRead(await this.request('GET', `${this.keyPath(receiverId)}?consistent`), 0);
  }

  /** `GET ?index=N&wait=…`: answers once the key changed after index N, or when the wait ends. */
  private async blockingRead(receiverId: string, index: number, waitMs: number, signal: AbortSignal | undefined): Promise<KeyRead> {
    const query = index > 0 ? `?index=${index}&wait=${Math.max(1, Math.ceil(waitMs))}ms` : '';
    // Consul adds up to wait/16 of jitter to a blocking query
    const timeoutMs = index > 0 ? Math.ceil(waitMs + waitMs / 16) + REQUEST_TIMEOUT_MS : REQUEST_TIMEOUT_MS;
    const stop = AbortSignal.any([this.stopped.signal, ...(signal ? [signal] : [])]);
    return this.keyRead(await this.request('GET', `${this.keyPath(receiverId)}${query}`, undefined, timeoutMs, stop), index);
  }

  private async keyRead(response: Response, previous: number): Promise<KeyRead> {
    const index = Number(response.headers.get('x-consul-index'));
    let entries: KvEntry[] | undefined;
    if (response.status === 404) await response.text(); // no such key; read the body so the connection is reused
    else entries = await this.json<KvEntry[]>(response, 'GET key');
    // Consul: an index that went backwards (or is missing) means start over from 0
    return { entry: entries?.[0], index: Number.isSafeInteger(index) && index > 0 && index >= previous ? index : 0 };
  }

  private async call<T>(method: string, path: string, body?: unknown, timeoutMs = REQUEST_TIMEOUT_MS): Promise<T> {
    return this.json<T>(await this.request(method, path, body, timeoutMs), `${method} ${path}`);
  }

  private request(method: string, path: string, body?: unknown, timeoutMs = REQUEST_TIMEOUT_MS, signal?: AbortSignal): Promise<Response> {
    const timeout = AbortSignal.timeout(timeoutMs);
    return fetch(`${this.base}${path}`, {
      method,
      headers: this.headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
  }

  private async json<T>(response: Response, what: string): Promise<T> {
    const text = await response.text();
    if (!response.ok) throw new ConsulError(response.status, `consul ${what}: ${response.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  private keyPath(receiverId: string): string {
    return `/v1/kv/${[this.options.prefix, 'locks', receiverId].map(encodeURIComponent).join('/')}`;
  }
}

/**
 * Waits for a busy key to change, for one `acquire()` call: each wait is a blocking query from the
 * index the previous one returned, so no change in between is missed, and it returns as soon as
 * the key is free (released, deleted) for the caller to try again.
 */
class KeyChanges {
  private index = 0;
  private free = false;

  constructor(private readonly read: (index: number, waitMs: number, signal: AbortSignal | undefined) => Promise<KeyRead>) {}

  async wait(ms: number, signal: AbortSignal | undefined): Promise<void> {
    const giveUpAt = Date.now() + ms;
    for (;;) {
      const remaining = giveUpAt - Date.now();
      if (remaining <= 0 || signal?.aborted) return;
      // a free key that still refused us is in its lock-delay, whose end no write announces
      const waitMs = this.free ? Math.min(remaining, LOCK_DELAY_RETRY_MS) : remaining;
      try {
        const { entry, index } = await this.read(this.index, waitMs, signal);
        this.index = index;
        this.free = !entry?.Session;
      } catch {
        return sleep(Math.min(remaining, LOCK_DELAY_RETRY_MS), signal); // unreachable: the next try reports it
      }
      if (this.free) return;
    }
  }
}

/** Consul refuses an acquire under a session it no longer knows (expired or destroyed): `invalid session "<id>"`. */
function sessionGone(error: unknown): boolean {
  return error instanceof ConsulError && /invalid session/i.test(error.message);
}

function decodeHolder(value: string | null): { emitterId: string; since: string } {
  try {
    const { emitterId, since } = JSON.parse(Buffer.from(value ?? '', 'base64').toString('utf8')) as { emitterId?: unknown; since?: unknown };
    return { emitterId: String(emitterId), since: String(since) };
  } catch {
    return { emitterId: 'unknown', since: '' };
  }
}
