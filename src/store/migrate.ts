import { Cluster } from 'ioredis';
import { startFailure } from '../errors.js';
import { as, Batch } from './batch.js';
import type { Keys } from './keys.js';
import { storePipeline, type StoreRedis } from './scripts.js';

/** The storage layout this version reads and writes: every part of a message in its one hash (issue 13). */
export const SCHEMA = '2';

/** Messages read per SCAN step, and converted per pipelined round trip. */
const SCAN_COUNT = 500;

/**
 * The keys of the layout before schema 2, which only the migration still reads: a message's
 * deliveries hash, one attempts list per delivery, and the whole-message attempts list of
 * messages stored before per-delivery lists.
 */
export interface PreviousLayout {
  deliveries(messageId: string): string;
  attempts(messageId: string, receiverId: string): string;
  legacyAttempts(messageId: string): string;
}

export function previousLayout(prefix: string): PreviousLayout {
  return {
    deliveries: (messageId) => `${prefix}:dlv:${messageId}`,
    attempts: (messageId, receiverId) => `${prefix}:att:${messageId}:${receiverId}`,
    legacyAttempts: (messageId) => `${prefix}:att:${messageId}`,
  };
}

/** The key that holds the layout's schema once an installation was converted (absent before). */
export function schemaKey(prefix: string): string {
  return `${prefix}:schema`;
}

/**
 * Converts a Redis written by a version before schema 2, once, at connect: every message that
 * still has a deliveries hash goes into its one hash (lua/migrate-message.lua), then the schema
 * key says 2 and later starts read only that key.
 *
 * Several processes may start together: each converts what it finds (a message converted by
 * another is skipped) and sets the schema last, after its own whole pass, so no process starts
 * serving while a message it could read is unconverted. Processes of the previous version must be
 * stopped first (README "Upgrading"): one caught writing a message's old keys while it is
 * converted makes the start fail, naming the message, rather than leave part of it behind.
 */
export class SchemaMigration {
  private readonly previous: PreviousLayout;

  constructor(
    private readonly redis: StoreRedis,
    private readonly keys: Keys,
  ) {
    this.previous = previousLayout(keys.prefix);
  }

  /** The number of messages this process converted; undefined when the schema was current already. */
  async run(): Promise<number | undefined> {
    await this.checkShardGroups();
    const schema = schemaKey(this.keys.prefix);
    if ((await this.redis.get(schema)) === SCHEMA) return undefined;
    const pattern = `${globEscape(this.keys.prefix)}:dlv:*`;
    const head = `${this.keys.prefix}:dlv:`.length;
    // SCAN walks one node. On a cluster every key of the installation shares the prefix's hash
    // tag (config: a prefix without one gets one), so the master owning that slot holds them all;
    // scanning every master costs little more and holds without that rule.
    const nodes = this.redis instanceof Cluster ? this.redis.nodes('master') : [this.redis];
    let converted = 0;
    for (const node of nodes) {
      let cursor = '0';
      do {
        const [next, found] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', SCAN_COUNT);
        converted += await this.convert(found.map((key) => key.slice(head)));
        cursor = next;
      } while (cursor !== '0');
    }
    await this.redis.set(schema, SCHEMA);
    return converted;
  }

  /**
   * The number of shard groups (keys.ts) is fixed once data is stored: a receiver's keys live in
   * the group its id hashes to among that many. The first start records it; a start with another
   * number fails, saying so, rather than lose sight of every receiver stored.
   */
  private async checkShardGroups(): Promise<void> {
    const groups = String(this.keys.groupKeys.length);
    const key = this.keys.shardGroups;
    // an installation from before the setting has one group, and its receivers index under the plain prefix
    const stored = (await this.redis.get(key)) ?? ((await this.redis.exists(this.keys.receivers)) === 1 ? '1' : undefined);
    if (stored !== undefined && stored !== groups)
      throw startFailure(
        `this Redis holds a Lockstep installation with ${stored} shard group(s), and LOCKSTEP_REDIS_SHARD_GROUPS is ${groups}: set it back to ${stored} (moving stored data to another number of groups is not supported)`,
      );
    await this.redis.set(key, groups);
  }

  /** Converts the messages in two round trips (their receivers, then one script each); how many it converted. */
  private async convert(messageIds: string[]): Promise<number> {
    const read = new Batch(this.redis.pipeline());
    const named = messageIds.map((id) => ({
      id,
      listed: read.add((p) => p.hget(this.keys.message(id), 'receiverIds'), as.text),
      delivered: read.add((p) => p.hkeys(this.previous.deliveries(id)), as.list),
    }));
    await read.run();
    const write = new Batch(storePipeline(this.redis));
    const replies = named.map(({ id, listed, delivered }) => {
      // the script is told every key it touches: the lists of the receivers both places name
      const receiverIds = [...new Set([...(listed.value ?? '').split(',').filter(Boolean), ...delivered.value])];
      const keys = [
        this.keys.message(id),
        this.previous.deliveries(id),
        this.previous.legacyAttempts(id),
        ...receiverIds.map((receiverId) => this.previous.attempts(id, receiverId)),
      ];
      return { id, reply: write.add((p) => p.migrateMessage(keys.length, ...keys, ...receiverIds), as.text) };
    });
    await write.run();
    const changed = replies.find(({ reply }) => reply.value === 'changed');
    if (changed)
      throw startFailure(
        `message ${changed.id} changed while it was converted to storage schema ${SCHEMA}: a process of the previous Lockstep version is still running. Stop every one of them, then start again (README "Upgrading").`,
      );
    return replies.filter(({ reply }) => reply.value === 'converted').length;
  }
}

/** `text` matched literally by a SCAN pattern (a prefix may hold glob characters). */
function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}
