import { Etcd3, type Lease, type Watcher } from 'etcd3';
import { acquireWithin, HeldLockRegistry, sleep } from './held-lock.js';
import type { AcquireOptions, HeldLock, LockBackendOptions, LockHolder, LockStats, ReceiverLocks } from './types.js';

/** How long a read for `/readyz` may take before etcd counts as not answering. */
const PING_TIMEOUT_MS = 2000;

/**
 * etcd backend: ONE lease per process, kept alive by etcd3 (every TTL/3); a receiver is taken
 * with one transaction (`create_revision == 0` → put with our lease), so the fence is the key's
 * create revision, which only grows. Waiting for a busy receiver watches its key.
 *
 * etcd leases have whole seconds (and etcd raises short TTLs to its minimum, ~3 s by default),
 * so the lease TTL is the configured TTL rounded UP: the server never frees a key before our own
 * local deadline (`last keep-alive sent + configured TTL − margin`) has made us stop. etcd3's own
 * `lost` event comes about 2×TTL late, so it is only a backstop; a failed keep-alive loses every
 * lock at once, and a watch on each held key catches it being deleted or taken.
 */
export class EtcdReceiverLocks implements ReceiverLocks {
  readonly backend = 'etcd' as const;
  private readonly client: Etcd3;
  private readonly held: HeldLockRegistry;
  private readonly watchers = new Map<string, Watcher>();
  private lease: Lease | undefined;
  private leaseId = '';
  private keepAliveSentAt = 0;
  private closed = false;

  constructor(
    hosts: string[],
    private readonly options: LockBackendOptions,
  ) {
    // unary calls get a deadline: a cut-off etcd must fail an acquire, not hang it
    this.client = new Etcd3({ hosts, dialTimeout: 2000, defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + Math.max(2000, options.ttlMs) }) });
    this.held = new HeldLockRegistry(options.ttlMs);
  }

  start(): Promise<void> {
    return this.grantLease();
  }

  acquire(receiverId: string, options: AcquireOptions): Promise<HeldLock | null> {
    const pollMs = Math.max(50, Math.min(1000, Math.floor(this.options.ttlMs / 4)));
    return acquireWithin(() => this.tryAcquire(receiverId), (ms, signal) => this.waitForRelease(receiverId, ms, signal), options, pollMs);
  }

  async release(lock: HeldLock): Promise<void> {
    if (!this.held.releasing(lock)) return;
    this.stopWatching(lock.receiverId);
    await this.client
      .if(this.key(lock.receiverId), 'Lease', '==', this.leaseId)
      .then(this.client.delete().key(this.key(lock.receiverId)))
      .commit()
      .catch(() => {}); // unreachable etcd: the key goes with our lease
  }

  async holders(): Promise<LockHolder[]> {
    const prefix = this.key('');
    const response = await this.client.getAll().prefix(prefix).exec();
    return response.kvs
      .map((kv) => ({ receiverId: kv.key.toString().slice(prefix.length), fence: Number(kv.create_revision), ...(JSON.parse(kv.value.toString()) as { emitterId: string; since: string }) }))
      .sort((a, b) => a.receiverId.localeCompare(b.receiverId));
  }

  async ping(): Promise<boolean> {
    const read = this.client.get(this.key('ping')).string().then(() => true, () => false);
    return Promise.race([read, sleep(PING_TIMEOUT_MS).then(() => false)]);
  }

  stats(): LockStats {
    return this.held.stats();
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.held.all().map((lock) => this.release(lock)));
    await this.lease?.revoke().catch(() => {});
    this.client.close();
  }

  private async tryAcquire(receiverId: string): Promise<HeldLock | null> {
    this.held.attempting(receiverId);
    const key = this.key(receiverId);
    const sentAt = Date.now();
    const value = JSON.stringify({ emitterId: this.options.emitterId, since: new Date(sentAt).toISOString() });
    const result = await this.client.if(key, 'Create', '==', 0).then(this.client.put(key).value(value).lease(this.leaseId)).commit();
    if (!result.succeeded) return null;
    // the put happened at the transaction's revision, which is therefore the key's create revision
    const lock = this.held.add(receiverId, Number(result.header.revision), sentAt);
    await this.watchHeld(receiverId, Number(result.header.revision));
    return lock;
  }

  /** A held key deleted (expired) or re-created by someone else means the lock is gone. */
  private async watchHeld(receiverId: string, fence: number): Promise<void> {
    const watcher = await this.client.watch().key(this.key(receiverId)).startRevision(String(fence + 1)).create();
    const lost = (): void => this.held.get(receiverId)?.lose('stolen');
    watcher.on('delete', lost);
    watcher.on('put', (kv) => {
      if (String(kv.lease) !== this.leaseId) lost();
    });
    if (this.held.get(receiverId)?.fence === fence) this.watchers.set(receiverId, watcher);
    else await watcher.cancel();
  }

  private stopWatching(receiverId: string): void {
    void this.watchers.get(receiverId)?.cancel().catch(() => {});
    this.watchers.delete(receiverId);
  }

  private async waitForRelease(receiverId: string, ms: number, signal: AbortSignal | undefined): Promise<void> {
    const released = new AbortController();
    const watcher = await this.client.watch().key(this.key(receiverId)).create().catch(() => undefined);
    watcher?.on('delete', () => released.abort());
    try {
      // the key may have gone between our failed transaction and the watch starting
      if (!(await this.client.get(this.key(receiverId)).exists().catch(() => true))) return;
      await sleep(ms, signal ? AbortSignal.any([signal, released.signal]) : released.signal);
    } finally {
      await watcher?.cancel().catch(() => {});
    }
  }

  private async grantLease(): Promise<void> {
    const lease = this.client.lease(Math.max(1, Math.ceil(this.options.ttlMs / 1000)), { autoKeepAlive: true });
    lease.on('keepaliveFired', () => (this.keepAliveSentAt = Date.now()));
    lease.on('keepaliveSucceeded', () => this.held.renewed(this.held.all(), this.keepAliveSentAt));
    lease.on('keepaliveFailed', () => this.held.loseAll('renewal-failed'));
    try {
      this.leaseId = await lease.grant();
    } catch (error) {
      lease.removeAllListeners();
      throw error;
    }
    lease.once('lost', () => this.replaceLease(lease));
    this.lease = lease;
  }

  /** etcd3 gave the lease up (its own `lost`): every lock under it is gone; get a new lease. */
  private replaceLease(dead: Lease): void {
    if (this.lease !== dead) return;
    this.held.loseAll('renewal-failed');
    dead.removeAllListeners();
    this.lease = undefined;
    const retry = (): void => {
      if (!this.closed) this.grantLease().catch(() => setTimeout(retry, 1000).unref());
    };
    retry();
  }

  private key(receiverId: string): string {
    return `${this.options.prefix}/locks/${receiverId}`;
  }
}
