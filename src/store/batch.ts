import type { ChainableCommander } from 'ioredis';
import type { Keys } from './keys.js';

/** Reads one raw reply as the type its command returns (shape checked, never just asserted). */
export type Decode<T> = (reply: unknown) => T;

/** Decoders for the reply shapes the store reads in batches. */
export const as = {
  count: (reply: unknown): number => Number(reply ?? 0),
  text: (reply: unknown): string | null => (typeof reply === 'string' ? reply : null),
  texts: (reply: unknown): (string | null)[] => (Array.isArray(reply) ? reply.map((item: unknown) => (typeof item === 'string' ? item : null)) : []),
  list: (reply: unknown): string[] => (Array.isArray(reply) ? reply.filter((item: unknown): item is string => typeof item === 'string') : []),
  hash: (reply: unknown): Record<string, string> =>
    reply !== null && typeof reply === 'object' && !Array.isArray(reply)
      ? Object.fromEntries(Object.entries(reply).filter((entry): entry is [string, string] => typeof entry[1] === 'string'))
      : {},
  /** A script's array reply of strings and integers. */
  mixed: (reply: unknown): (string | number)[] =>
    Array.isArray(reply) ? reply.filter((item: unknown): item is string | number => typeof item === 'string' || typeof item === 'number') : [],
};

/** A pipeline or MULTI: ioredis's own, or one with the store's scripts (scripts.ts). */
interface Runnable {
  exec(): Promise<[Error | null, unknown][] | null>;
}

/** A queued command's reply, readable once the batch has run. */
export interface Reply<T> {
  readonly value: T;
}

/**
 * Several commands in one round trip (a pipeline, or a MULTI for atomic reads), each handing back
 * its own typed reply instead of a position in an array of unknowns:
 *
 *   const batch = new Batch(redis.multi());
 *   const hash = batch.add((p) => p.hgetall(key), as.hash);
 *   await batch.run();
 *   hash.value // Record<string, string>
 *
 * `run` throws the first command error.
 */
export class Batch<P extends Runnable = ChainableCommander> {
  private readonly decoders: ((reply: unknown) => void)[] = [];

  constructor(private readonly pipeline: P) {}

  /** Queues one command (`queue` adds exactly one to the pipeline) and how to read its reply. */
  add<T>(queue: (pipeline: P) => unknown, decode: Decode<T>): Reply<T> {
    queue(this.pipeline);
    const slot: { value: T | undefined; ready: boolean } = { value: undefined, ready: false };
    this.decoders.push((reply) => Object.assign(slot, { value: decode(reply), ready: true }));
    return {
      get value(): T {
        if (!slot.ready) throw new Error('Batch: read a reply before run()');
        return slot.value as T;
      },
    };
  }

  get size(): number {
    return this.decoders.length;
  }

  async run(): Promise<void> {
    if (this.decoders.length === 0) return;
    const replies = (await this.pipeline.exec()) ?? [];
    this.decoders.forEach((decode, i) => {
      const [error, reply] = replies[i] ?? [new Error('Batch: no reply (transaction aborted)'), null];
      if (error) throw error;
      decode(reply);
    });
  }
}

/**
 * One Batch per shard group (keys.ts), run together: a Redis Cluster takes a pipeline only when all
 * its keys are on one node, and a group's keys share one slot. With one group, one pipeline.
 */
export class GroupBatches {
  private readonly batches = new Map<Keys, Batch>();

  constructor(private readonly redis: { pipeline(): ChainableCommander }) {}

  /** The batch for commands on `group`'s keys. */
  in(group: Keys): Batch {
    let batch = this.batches.get(group);
    if (!batch) this.batches.set(group, (batch = new Batch(this.redis.pipeline())));
    return batch;
  }

  async run(): Promise<void> {
    await Promise.all([...this.batches.values()].map((batch) => batch.run()));
  }
}
