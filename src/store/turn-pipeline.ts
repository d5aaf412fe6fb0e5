import type { Decode } from './batch.js';
import type { Keys } from './keys.js';
import { storePipeline, type StorePipeline, type StoreRedis } from './scripts.js';

interface Queued {
  queue: (pipeline: StorePipeline) => unknown;
  settle: (error: Error | null, reply: unknown) => void;
}

/**
 * Commands queued during one turn of the event loop leave as one pipeline when the turn ends (group
 * commit): concurrent requests share one socket write and one read instead of paying one each, the
 * biggest single cost of intake under load. Each command still gets its own reply or error. One
 * pipeline per shard group (keys.ts), as a Redis Cluster takes a pipeline only on one node.
 */
export class TurnPipeline {
  private queued = new Map<Keys, Queued[]>();

  constructor(private readonly redis: StoreRedis) {}

  /** Queues one command on `group`'s keys (`queue` adds exactly one to the pipeline); resolves with its decoded reply. */
  add<T>(group: Keys, queue: (pipeline: StorePipeline) => unknown, decode: Decode<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      // setImmediate runs after every I/O callback of this turn: all their commands are queued by then
      if (this.queued.size === 0) setImmediate(() => this.flush());
      const entry = { queue, settle: (error: Error | null, reply: unknown) => (error ? reject(error) : resolve(decode(reply))) };
      const list = this.queued.get(group);
      if (list) list.push(entry);
      else this.queued.set(group, [entry]);
    });
  }

  private flush(): void {
    const groups = this.queued;
    this.queued = new Map();
    for (const queued of groups.values()) {
      const pipeline = storePipeline(this.redis);
      for (const { queue } of queued) queue(pipeline);
      pipeline.exec().then(
        (replies) => queued.forEach(({ settle }, i) => settle(...(replies?.[i] ?? [new Error('TurnPipeline: no reply'), null]))),
        (error: Error) => queued.forEach(({ settle }) => settle(error, null)),
      );
    }
  }
}
