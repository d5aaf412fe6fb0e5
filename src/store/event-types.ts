import { randomBytes } from 'node:crypto';
import type { ReplicaBarrier } from '../redis-replicas.js';
import type { EventType } from '../shapes/event-types.js';
import type { Keys } from './keys.js';
import type { StoreRedis } from './scripts.js';

/** A stored type: what the API shows, plus `version`, new on every write (validators are cached by it). */
export type StoredEventType = EventType & { version: string };

/** The changes of a PATCH: `schema: null` removes the schema. */
export type EventTypeChanges = Partial<Pick<EventType, 'description' | 'deprecated'>> & { schema?: Record<string, unknown> | null };

/**
 * The event-type catalog: one hash, field = type name. Small (types are named by people), read whole
 * by the list and one field at a time by intake.
 */
export class EventTypeStore {
  constructor(
    private readonly redis: StoreRedis,
    private readonly keys: Keys,
    /** A catalog change's answer waits for the replicas, as every acknowledged write does. */
    private readonly replicas: ReplicaBarrier,
  ) {}

  /** Stores a new type; undefined when one of that name exists. */
  async create(type: Omit<EventType, 'createdAt' | 'updatedAt'>): Promise<StoredEventType | undefined> {
    const now = new Date().toISOString();
    const stored: StoredEventType = { ...type, createdAt: now, updatedAt: now, version: newVersion() };
    const created = await this.redis.hsetnx(this.keys.eventTypes, type.name, JSON.stringify(stored));
    if (created !== 1) return undefined;
    await this.replicas.confirm();
    return stored;
  }

  async get(name: string): Promise<StoredEventType | undefined> {
    return parse(await this.redis.hget(this.keys.eventTypes, name));
  }

  /** The types of these names (undefined for a name not in the catalog), in one round trip. */
  async getMany(names: string[]): Promise<Map<string, StoredEventType | undefined>> {
    if (names.length === 0) return new Map();
    const values = await this.redis.hmget(this.keys.eventTypes, ...names);
    return new Map(names.map((name, index) => [name, parse(values[index] ?? null)]));
  }

  async list(): Promise<StoredEventType[]> {
    const all = await this.redis.hgetall(this.keys.eventTypes);
    return Object.values(all)
      .map((value) => JSON.parse(value) as StoredEventType)
      .sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  /** Applies a change; undefined when there is no such type. Two PATCHes racing: the last one wins. */
  async update(name: string, changes: EventTypeChanges): Promise<StoredEventType | undefined> {
    const current = await this.get(name);
    if (!current) return undefined;
    const { schema, ...rest } = changes;
    const { schema: oldSchema, ...kept } = current;
    const next: StoredEventType = {
      ...kept,
      ...rest,
      ...(schema === null ? {} : schema !== undefined ? { schema } : oldSchema ? { schema: oldSchema } : {}),
      updatedAt: new Date().toISOString(),
      version: newVersion(),
    };
    await this.redis.hset(this.keys.eventTypes, name, JSON.stringify(next));
    await this.replicas.confirm();
    return next;
  }

  async delete(name: string): Promise<boolean> {
    if ((await this.redis.hdel(this.keys.eventTypes, name)) !== 1) return false;
    await this.replicas.confirm();
    return true;
  }
}

function parse(value: string | null): StoredEventType | undefined {
  return value === null ? undefined : (JSON.parse(value) as StoredEventType);
}

/** Unique per write, across processes (two PATCHes in the same millisecond still differ). */
function newVersion(): string {
  return `${Date.now().toString(36)}.${randomBytes(6).toString('hex')}`;
}
