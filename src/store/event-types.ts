import { randomBytes } from 'node:crypto';
import type { ReplicaBarrier } from '../redis-replicas.js';
import type { EventType } from '../shapes/event-types.js';
import type { Keys } from './keys.js';
import type { StoreRedis } from './scripts.js';

/** A stored type: what the API shows, plus `version`, new on every write (validators are cached by it). */
export type StoredEventType = EventType & { version: string };

/** The changes of a PATCH: `schema: null` removes the schema. */
export type EventTypeChanges = Partial<Pick<EventType, 'description' | 'deprecated'>> & { schema?: Record<string, unknown> | null };

/** The version of a catalog nothing was ever written to. */
export const EMPTY_CATALOG = '0';

/** The whole catalog as intake validates with it, and the version accept.lua checks it by. */
export interface Catalog {
  version: string;
  types: Map<string, StoredEventType>;
}

/**
 * The event-type catalog: one hash, field = type name. Small (types are named by people), so intake
 * keeps it whole in memory and reads it again only when a write has bumped its version (accept.lua
 * refuses a message validated with an older one): no catalog read on the way of a message.
 */
export class EventTypeStore {
  private cached: Promise<Catalog> | undefined;

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
    const created = await this.redis.writeEventType(this.keys.eventTypes, this.keys.eventTypesVersion, 'create', type.name, JSON.stringify(stored));
    if (created !== 1) return undefined;
    this.forget();
    await this.replicas.confirm();
    return stored;
  }

  async get(name: string): Promise<StoredEventType | undefined> {
    return parse(await this.redis.hget(this.keys.eventTypes, name));
  }

  /** The catalog as last read (read once, then again after `forget`). */
  catalog(): Promise<Catalog> {
    this.cached ??= this.readCatalog().catch((error: unknown) => {
      this.cached = undefined;
      throw error;
    });
    return this.cached;
  }

  /** Drops the cached catalog: accept.lua said a write has changed it since. */
  forget(): void {
    this.cached = undefined;
  }

  /** Whether no catalog write happened since `catalog` was read (one GET). */
  async isCurrent(catalog: Catalog): Promise<boolean> {
    return ((await this.redis.get(this.keys.eventTypesVersion)) ?? EMPTY_CATALOG) === catalog.version;
  }

  private async readCatalog(): Promise<Catalog> {
    const replies = await this.redis.multi().get(this.keys.eventTypesVersion).hgetall(this.keys.eventTypes).exec();
    const version = replies?.[0]?.[1];
    const all = (replies?.[1]?.[1] ?? {}) as Record<string, string>;
    return {
      version: typeof version === 'string' ? version : EMPTY_CATALOG,
      types: new Map(Object.entries(all).map(([name, json]) => [name, JSON.parse(json) as StoredEventType])),
    };
  }

  async list(): Promise<StoredEventType[]> {
    const all = await this.redis.hgetall(this.keys.eventTypes);
    return Object.values(all)
      .map((value) => JSON.parse(value) as StoredEventType)
      .sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  /**
   * Applies a change; undefined when there is no such type. Compare and set
   * (lua/replace-event-type.lua): two PATCHes racing each other both apply, field by field of their
   * bodies; a PATCH racing a DELETE never brings the type back.
   */
  async update(name: string, changes: EventTypeChanges): Promise<StoredEventType | undefined> {
    for (let tries = 0; tries < TRIES; tries++) {
      const read = await this.redis.hget(this.keys.eventTypes, name);
      if (read === null) return undefined;
      const next = changed(JSON.parse(read) as StoredEventType, changes);
      const outcome = await this.redis.replaceEventType(this.keys.eventTypes, this.keys.eventTypesVersion, name, read, JSON.stringify(next));
      if (outcome === 'gone') return undefined;
      if (outcome === 'replaced') {
        this.forget();
        await this.replicas.confirm();
        return next;
      }
    }
    throw new Error(`event type ${name} kept changing while it was being updated`);
  }

  async delete(name: string): Promise<boolean> {
    if ((await this.redis.writeEventType(this.keys.eventTypes, this.keys.eventTypesVersion, 'delete', name, '')) !== 1) return false;
    this.forget();
    await this.replicas.confirm();
    return true;
  }
}

/** Each failed compare means another writer's change went in: with n writers at once, at most n reads (the bound is far above). */
const TRIES = 100;

function changed(current: StoredEventType, changes: EventTypeChanges): StoredEventType {
  const { schema, ...rest } = changes;
  const { schema: oldSchema, ...kept } = current;
  return {
    ...kept,
    ...rest,
    ...(schema === null ? {} : schema !== undefined ? { schema } : oldSchema ? { schema: oldSchema } : {}),
    updatedAt: new Date().toISOString(),
    version: newVersion(),
  };
}

function parse(value: string | null): StoredEventType | undefined {
  return value === null ? undefined : (JSON.parse(value) as StoredEventType);
}

/** Unique per write, across processes (two PATCHes in the same millisecond still differ). */
function newVersion(): string {
  return `${Date.now().toString(36)}.${randomBytes(6).toString('hex')}`;
}
