import type { Etcd3, IKeyValue, Watcher } from 'etcd3';
import { sleep } from '../lib/abort.js';

/** A change to one lock key, as etcd reports it. */
export interface KeyChange {
  readonly type: 'put' | 'delete';
  /** The revision of the change itself. */
  readonly revision: number;
  /** The lease a put was made under ('0' for a delete). */
  readonly lease: string;
}

/** How long to wait before watching again after etcd cancelled the watch (compaction). */
const REWATCH_MS = 1000;

/**
 * Every change to this process's lock keys from ONE prefix watch, handed to whoever subscribed to
 * the key: an acquire waiting for it to be deleted, a held lock watching for it to be taken. It
 * replaces a watch per held key and per waiter, created and cancelled with every turn (about a
 * third of the emitter's etcd cost in fan-out, bench/README.md). Every emitter sees every lock
 * change: a map lookup each.
 *
 * etcd3 resumes a broken watch stream from the last revision it saw, so a subscriber misses no
 * change while the watch runs. Before it runs, or while it is replaced after etcd cancelled it (its
 * history compacted), changes can be missed: waits then end by their poll, and held locks by their
 * keep-alives and local deadline, as when etcd cannot be reached.
 */
export class EtcdKeyFeed {
  private readonly subscribers = new Map<string, Set<(change: KeyChange) => void>>();
  private watcher: Watcher | undefined;
  private watching: Promise<void> | undefined;
  private readonly closing = new AbortController();

  constructor(
    private readonly client: Etcd3,
    private readonly prefix: string,
  ) {}

  /** Sets the watch up unless it runs or is being set up: a field check once it runs. */
  run(): void {
    if (!this.watcher) this.watching ??= this.keepWatching(0);
  }

  /** run(); resolves when the watch runs, or after `withinMs` with it still being set up. */
  async start(withinMs: number): Promise<void> {
    this.run();
    if (this.watching) await Promise.race([this.watching, sleep(withinMs, this.closing.signal)]);
  }

  /** Calls `onChange` with each change of `key` until the returned function is called. */
  subscribe(key: string, onChange: (change: KeyChange) => void): () => void {
    let listeners = this.subscribers.get(key);
    if (!listeners) this.subscribers.set(key, (listeners = new Set()));
    listeners.add(onChange);
    return () => {
      listeners.delete(onChange);
      if (listeners.size === 0 && this.subscribers.get(key) === listeners) this.subscribers.delete(key);
    };
  }

  close(): void {
    this.closing.abort();
    void this.watcher?.cancel().catch(() => {});
    this.watcher = undefined;
  }

  /** Until a watch runs or the feed closes, after `pauseMs` and between tries: etcd may be unreachable for a while. */
  private async keepWatching(pauseMs: number): Promise<void> {
    while (!this.closing.signal.aborted && !this.watcher) {
      if (pauseMs > 0) await sleep(pauseMs, this.closing.signal);
      pauseMs = REWATCH_MS;
      try {
        this.watcher = await this.watch();
      } catch {
        // tried again after the pause
      }
    }
    this.watching = undefined;
  }

  private async watch(): Promise<Watcher | undefined> {
    const watcher = await this.client.watch().prefix(this.prefix).create();
    if (this.closing.signal.aborted) return void watcher.cancel().catch(() => {});
    const dispatch =
      (type: KeyChange['type']) =>
      (kv: IKeyValue): void => {
        const change: KeyChange = { type, revision: Number(kv.mod_revision), lease: String(kv.lease) };
        for (const onChange of this.subscribers.get(kv.key.toString()) ?? []) onChange(change);
      };
    watcher.on('put', dispatch('put'));
    watcher.on('delete', dispatch('delete'));
    // etcd cancelled it (compaction): a new one from now, after a pause
    watcher.on('error', () => {
      if (this.watcher !== watcher) return;
      this.watcher = undefined;
      this.watching ??= this.keepWatching(REWATCH_MS);
    });
    return watcher;
  }
}
