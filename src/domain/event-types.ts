import { badField, notFound } from '../errors.js';
import type { Logger } from '../logger.js';
import type { EventType, NewEventType, PatchEventType } from '../shapes/event-types.js';
import type { Catalog, Store, StoredEventType } from '../store/index.js';
import type { DomainLog } from './log.js';
import { hasOwnPrefix, reservedEventType } from './own-events.js';
import { PayloadSchemas } from './payload-schemas.js';

export interface EventTypesOptions {
  store: Store;
  /** LOCKSTEP_REQUIRE_KNOWN_EVENT_TYPES: intake refuses types that are not in the catalog. */
  requireKnown: boolean;
  log: Logger;
}

export const duplicateEventType = (name: string) => badField('name', `${name} is in the catalog already; PATCH /v1/event-types/${name} changes it`, 409);

export const unknownEventType = (field: string, name: string) =>
  badField(field, `${name} is not in the event-type catalog (LOCKSTEP_REQUIRE_KNOWN_EVENT_TYPES=true); add it with POST /v1/event-types`, 422);

/** One message's part intake checks: its type, its payload, and where in the request they are. */
export interface PublishedPayload {
  eventType: string;
  payload: unknown;
  /** The request path of the message (`''` for a single message, `messages[3].` in a batch). */
  at: string;
}

/**
 * The rules of the event-type catalog: names are unique, a schema is a valid JSON Schema before it
 * is stored, and intake checks every payload of a catalogued type against its schema (and, when
 * LOCKSTEP_REQUIRE_KNOWN_EVENT_TYPES is set, refuses types not in the catalog).
 */
export class EventTypes {
  private readonly schemas = new PayloadSchemas();

  constructor(private readonly options: EventTypesOptions) {}

  async create(input: NewEventType, log: DomainLog = this.options.log): Promise<EventType> {
    if (hasOwnPrefix(input.name)) throw reservedEventType('name', input.name);
    if (input.schema) this.schemas.check(input.schema);
    const stored = await this.options.store.eventTypes.create({
      name: input.name,
      description: input.description ?? '',
      deprecated: input.deprecated ?? false,
      ...(input.schema ? { schema: input.schema } : {}),
    });
    if (!stored) throw duplicateEventType(input.name);
    log.info({ eventType: input.name }, 'event type added to the catalog');
    return shown(stored);
  }

  async list(): Promise<EventType[]> {
    return (await this.options.store.eventTypes.list()).map(shown);
  }

  async get(name: string): Promise<EventType> {
    const stored = await this.options.store.eventTypes.get(name);
    if (!stored) throw notFound(`event type ${name}`);
    return shown(stored);
  }

  async update(name: string, input: PatchEventType, log: DomainLog = this.options.log): Promise<EventType> {
    if (input.schema) this.schemas.check(input.schema);
    const stored = await this.options.store.eventTypes.update(name, input);
    if (!stored) throw notFound(`event type ${name}`);
    log.info({ eventType: name, fields: Object.keys(input) }, 'event type updated');
    return shown(stored);
  }

  async delete(name: string, log: DomainLog = this.options.log): Promise<void> {
    if (!(await this.options.store.eventTypes.delete(name))) throw notFound(`event type ${name}`);
    log.info({ eventType: name }, 'event type removed from the catalog');
  }

  /**
   * Intake's check of messages about to be stored, against the catalog this process holds (no Redis
   * read unless it changed); returns that catalog's version, which the accept checks atomically
   * with the write: a message checked against a catalog written since is refused and checked again
   * (`forget` first).
   */
  async checkPayloads(messages: PublishedPayload[]): Promise<string> {
    const { store } = this.options;
    const catalog = await store.eventTypes.catalog();
    try {
      return this.check(catalog, messages);
    } catch (refusal) {
      // a refusal must come from the catalog as it is now, not as this process last read it
      if (await store.eventTypes.isCurrent(catalog)) throw refusal;
      store.eventTypes.forget();
      return this.check(await store.eventTypes.catalog(), messages);
    }
  }

  private check({ version, types }: Catalog, messages: PublishedPayload[]): string {
    for (const { eventType, payload, at } of messages) {
      const type = types.get(eventType);
      if (type) this.schemas.validate(type, payload, `${at}payload`);
      else if (this.options.requireKnown && !hasOwnPrefix(eventType)) throw unknownEventType(`${at}eventType`, eventType);
    }
    return version;
  }

  /** The catalog changed since this process read it (an accept said so). */
  forget(): void {
    this.options.store.eventTypes.forget();
  }
}

function shown({ version: _version, ...type }: StoredEventType): EventType {
  return type;
}
