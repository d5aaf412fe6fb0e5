import { Etcd3, EtcdLeaseInvalidError, type Lease } from 'etcd3';
import { sleep } from '../lib/abort.js';
import { acquireWithin, AttemptGuard } from './acquire.js';
import { etcdLeaseTtlS, requestTimeoutMs } from './cadence.js';
import { EtcdHostBreaker } from './etcd-host-breaker.js';
import { EtcdKeyFeed } from './etcd-key-feed.js';
import { KeyWatch } from './etcd-key-watch.js';
import { lockBackendError, lockCall } from './failure.js';
import { monotonicNow } from './clock.js';
import { HeldLockRegistry } from './registry.js';
import { SessionKeeper, type LockSession } from './session-keeper.js';
import { holdersByReceiver } from './slots.js';
import type { AcquireOptions, HeldLock, LockBackendOptions, LockHolder, LockStats, ReceiverLocks } from './types.js';

/** How long a read for `/readyz` may take before etcd counts as not answering. */
const PING_TIMEOUT_MS = 1000;

/** The one lease this process holds its keys under. */
interface LeaseSession extends LockSession {
  readonly lease: Lease;
  id: string;
  /** Send times (monotonic) of keep-alives not answered yet, oldest first: etcd answers them in order on one stream. */
  readonly unanswered: number[];
}

/**
 * etcd backend: ONE lease per process, kept alive by etcd3 (a keep-alive every lease TTL / 3 on one
 * gRPC stream). A receiver is taken with ONE transaction, `create_revision(key) == 0` → put the key
 * under our lease; the fence is the key's create revision (the transaction's header revision), which
 * grows with every write to etcd, so a later holder always has a larger one. One prefix watch per
 * process (etcd-key-feed.ts) follows every lock key: waiters retry when their key is deleted, and a
 * held key being deleted or re-created under another lease loses the lock at once ('stolen').
 *
 * TTL: etcd leases have whole seconds, so the lease asks for ceil(ttl / 1000) s (at least 1), and
 * etcd may raise it further to its own minimum (1.5 × election timeout, rounded up). The lease is
 * therefore never shorter than the configured TTL, and we check that against the TTL etcd actually
 * granted. The local deadline uses the configured TTL: `last confirmed keep-alive SENT + ttl −
 * margin` is then earlier than the moment etcd can drop the key (it counts from when it RECEIVED
 * that keep-alive, with the granted TTL), and it is the bound the API promises. A TTL that is not a
 * whole number of seconds only makes failover after a crash up to a second slower than the TTL.
 *
 * Loss: a keep-alive that fails loses every lock at once ('renewal-failed'), without waiting for
 * etcd3's `lost` event, which only comes ~2 × TTL after the last keep-alive (it stays as a
 * backstop); a local deadline that passes loses them all too ('deadline'). Either way the lease is
 * then ABANDONED: we stop keeping it alive and revoke it, because etcd would otherwise keep our
 * keys, held by no lock object, for as long as the lease lives. The next acquire grants a new one.
 */
export class EtcdReceiverLocks implements ReceiverLocks {
  readonly backend = 'etcd' as const;
  private readonly client: Etcd3;
  private readonly held: HeldLockRegistry;
  private readonly leases: SessionKeeper<LeaseSession>;
  private readonly attempts = new AttemptGuard();
  private readonly leaseTtlS: number;
  private readonly feed: EtcdKeyFeed;
  /** The etcd endpoints, for messages. */
  private readonly hosts: string;

  constructor(
    hosts: string[],
    private readonly options: LockBackendOptions,
  ) {
    // unary calls get a deadline (cadence.ts; streams have none): gRPC wants a wall-clock time here
    // and turns it into a timeout as the call starts, microseconds later.
    const timeoutMs = requestTimeoutMs(options.ttlMs);
    this.client = new Etcd3({
      hosts,
      dialTimeout: 2000,
      // skipping a failing host is timed on the monotonic clock, not the wall clock (etcd-host-breaker.ts)
      faultHandling: { host: (host) => new EtcdHostBreaker(host) },
      defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + timeoutMs }),
    });
    this.held = new HeldLockRegistry(options.ttlMs);
    this.leases = new SessionKeeper(
      this.held,
      () => this.grant(),
      (session) => session.lease.revoke(),
    );
    this.leaseTtlS = etcdLeaseTtlS(options.ttlMs);
    this.feed = new EtcdKeyFeed(this.client, this.key(''));
    this.hosts = hosts.join(', ');
  }

  async start(): Promise<void> {
    await lockCall('etcd', this.leases.session(), this.hosts);
    // etcd answered: the watch is set up next, waited for no longer than a request (until it runs, waits poll)
    await this.feed.start(requestTimeoutMs(this.options.ttlMs));
  }

  async acquire(receiverId: string, options: AcquireOptions): Promise<HeldLock | null> {
    // the key's deletion wakes a waiter, expiries included: the poll is only a backstop
    const pollMs = Math.max(250, Math.min(5000, this.options.ttlMs));
    this.feed.run(); // an acquire without start() gets it going
    const watch = new KeyWatch(this.feed, this.key(receiverId));
    try {
      return await lockCall(
        'etcd',
        acquireWithin(
          () => this.tryAcquire(receiverId, watch),
          (ms, signal) => watch.wait(ms, signal),
          options,
          pollMs,
        ),
        this.hosts,
      );
    } finally {
      watch.close();
    }
  }

  async release(lock: HeldLock): Promise<void> {
    const session = this.leases.live; // every held lock lives under the live lease
    if (!this.held.releasing(lock) || !session) return;
    const key = this.key(lock.receiverId);
    // deletes only our own key: after a loss etcd may already have given it to someone else
    await this.client
      .if(key, 'Lease', '==', session.id)
      .then(this.client.delete().key(key))
      .commit()
      .catch(() => this.leases.abandon(session, 'renewal-failed')); // else the key would outlive its lock
  }

  async holders(): Promise<LockHolder[]> {
    const prefix = this.key('');
    const response = await lockCall('etcd', this.client.getAll().prefix(prefix).exec(), this.hosts);
    return holdersByReceiver(
      response.kvs.map((kv) => ({ name: kv.key.toString().slice(prefix.length), fence: Number(kv.create_revision), ...decodeHolder(kv.value) })),
    );
  }

  async ping(): Promise<boolean> {
    // a linearizable read of a key that does not exist: cheap, and only answered with a leader.
    // The race bounds it even when etcd3 retries the read on another connection.
    const settled = new AbortController();
    const read = this.client
      .get(`${this.options.prefix}/ping`)
      .options({ deadline: Date.now() + PING_TIMEOUT_MS })
      .exists()
      .then(
        () => true,
        () => false,
      );
    try {
      return await Promise.race([read, sleep(PING_TIMEOUT_MS, settled.signal).then(() => false)]);
    } finally {
      settled.abort();
    }
  }

  stats(): LockStats {
    return this.held.stats();
  }

  async close(): Promise<void> {
    await this.leases.close(async () => {
      await Promise.all(this.held.all().map((lock) => this.release(lock)));
    });
    this.feed.close();
    this.client.close();
  }

  private async tryAcquire(receiverId: string, watch: KeyWatch): Promise<HeldLock | null> {
    this.held.attempting(receiverId);
    return this.attempts.run(receiverId, () =>
      this.leases.withSession(
        (session) => this.take(session, receiverId, watch),
        (error) => error instanceof EtcdLeaseInvalidError,
      ),
    );
  }

  /** The one transaction: `create_revision(key) == 0` → put the key under our lease, else read it. */
  private async take(session: LeaseSession, receiverId: string, watch: KeyWatch): Promise<HeldLock | null> {
    const key = this.key(receiverId);
    const value = JSON.stringify({ emitterId: this.options.emitterId, since: new Date().toISOString() });
    let fence: number;
    try {
      const result = await this.client.if(key, 'Create', '==', 0).then(this.client.put(key).value(value).lease(session.id)).else(this.client.get(key)).commit();
      const existing = result.responses[0]?.response_range?.kvs[0];
      if (result.succeeded)
        fence = Number(result.header.revision); // the put happened at this revision: the key's create revision
      else if (existing && String(existing.lease) === session.id)
        fence = Number(existing.create_revision); // an earlier try of ours that etcd3 retried
      else return watch.busy(Number(result.header.revision));
    } catch (error) {
      if (!(error instanceof EtcdLeaseInvalidError)) await this.dropOwnKey(session, key); // else nothing was written
      throw error;
    }
    const lock = this.leases.add(session, receiverId, fence);
    if (lock) watch.hold(lock, session.id);
    return lock;
  }

  /** A transaction that failed may still have been applied: delete the key if it is ours, or give the lease up. */
  private async dropOwnKey(session: LeaseSession, key: string): Promise<void> {
    await this.client
      .if(key, 'Lease', '==', session.id)
      .then(this.client.delete().key(key))
      .commit()
      .catch(() => this.leases.abandon(session, 'renewal-failed'));
  }

  /** Grants a lease (the keeper makes it the live one) and follows its keep-alives. */
  private async grant(): Promise<LeaseSession> {
    const sentAt = monotonicNow();
    const lease = this.client.lease(this.leaseTtlS, { autoKeepAlive: true });
    const session: LeaseSession = { lease, id: '', confirmedAt: sentAt, unanswered: [], abandoned: false };
    const giveUp = (): void => void this.leases.abandon(session, 'renewal-failed');
    // listeners first: etcd3 starts keeping the lease alive as soon as it is granted
    lease.on('keepaliveEstablished', () => (session.unanswered.length = 0)); // a new stream: older requests get no answer
    lease.on('keepaliveFired', () => session.unanswered.push(monotonicNow()));
    lease.on('keepaliveSucceeded', () => {
      const sent = session.unanswered.shift();
      if (sent !== undefined) this.leases.renewed(session, sent);
    });
    lease.on('keepaliveFailed', giveUp); // at once, not etcd3's `lost` ~2 × TTL later (kept as a backstop)
    lease.on('lost', giveUp);
    try {
      session.id = await lease.grant();
      const { grantedTTL } = await this.client.leaseClient.leaseTimeToLive({ ID: session.id });
      // the local deadline assumes etcd keeps a key at least the configured TTL after a keep-alive
      if (Number(grantedTTL) * 1000 < this.options.ttlMs)
        throw lockBackendError(`etcd granted a ${grantedTTL} s lease, shorter than the ${this.options.ttlMs} ms lock TTL`);
    } catch (error) {
      giveUp();
      throw error;
    }
    return session;
  }

  private key(receiverId: string): string {
    return `${this.options.prefix}/locks/${receiverId}`;
  }
}

function decodeHolder(value: Buffer): { emitterId: string; since: string } {
  try {
    const { emitterId, since } = JSON.parse(value.toString()) as { emitterId?: unknown; since?: unknown };
    return { emitterId: String(emitterId), since: String(since) };
  } catch {
    return { emitterId: 'unknown', since: '' };
  }
}
