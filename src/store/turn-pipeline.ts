import type { Decode } from './batch.js';
import { storePipeline, type StorePipeline, type StoreRedis } from './scripts.js';

interface Queued {
  queue: (pipeline: StorePipeline) => unknown;
  settle: (error: Error | null, reply: unknown) => void;
}

/**
 * Commands queued during one turn of the event loop leave as one pipeline when the turn ends (group
 * commit): concurrent requests share one socket write and one read instead of paying one each, the
 * biggest single cost of intake under load. Each command still gets its own reply or error.
 */
export class TurnPipeline {
  private queued: Queued[] = [];

  constructor(private readonly redis: StoreRedis) {}

  /** Queues one command (`queue` adds exactly one to the pipeline); resolves with its decoded reply. */
  add<T>(queue: (pipeline: StorePipeline) => unknown, decode: Decode<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      // setImmediate runs after every I/O callback of this turn: all their commands are queued by then
      if (this.queued.length === 0) setImmediate(() => this.flush());
      this.queued.push({ queue, settle: (error, reply) => (error ? reject(error) : resolve(decode(reply))) });
    });
  }

  private flush(): void {
    const queued = this.queued;
    this.queued = [];
    const pipeline = storePipeline(this.redis);
    for (const { queue } of queued) queue(pipeline);
    pipeline.exec().then(
      (replies) => queued.forEach(({ settle }, i) => settle(...(replies?.[i] ?? [new Error('TurnPipeline: no reply'), null]))),
      (error: Error) => queued.forEach(({ settle }) => settle(error, null)),
    );
  }
}
