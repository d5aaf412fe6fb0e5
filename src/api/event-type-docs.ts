import type { FastifyInstance, onSendHookHandler } from 'fastify';
import type { EventTypes } from '../domain/event-types.js';
import type { EventType } from '../shapes/event-types.js';
import { OWN_EVENT_DATA, WebhookBodySchema } from '../shapes/operational-events.js';
import { examples } from './examples.js';
import { OWN_EVENT_EXAMPLES } from './own-event-examples.js';

type OpenApiDocument = {
  components?: { schemas?: Record<string, unknown> };
  paths?: Record<string, Record<string, { description?: string }>>;
  webhooks?: Record<string, unknown>;
};

/** The component a catalogued type's payload is documented under. */
export const payloadComponent = (name: string): string => `EventPayload.${name}`;

/**
 * /docs describes the catalog: the OpenAPI document is built once at start-up, the catalog changes
 * at run time, so each answer of /docs/json gets one component per catalogued type (its payload
 * schema, description and `deprecated` flag) and a list of the types in POST /v1/messages'
 * description. The catalog is read through the domain, like any other answer; if Redis does not
 * answer, the document goes out without it. Lockstep's own events go out as `webhooks` either way.
 */
export function eventTypeDocs(app: FastifyInstance, eventTypes: EventTypes): void {
  const addCatalog: onSendHookHandler = (_request, _reply, payload, done) => {
    if (typeof payload !== 'string') return done(null, payload);
    eventTypes
      .list()
      .catch(() => undefined)
      .then((catalog) => done(null, JSON.stringify(withEvents(JSON.parse(payload) as OpenApiDocument, catalog ?? []))))
      .catch((error: Error) => done(error));
  };
  // on the document's route only: an onSend hook on every route cost each message a promise
  app.addHook('onRoute', (route) => {
    if (route.url === '/docs/json') route.onSend = [route.onSend ?? []].flat().concat(addCatalog);
  });
}

/**
 * The events Lockstep sends itself, as OpenAPI 3.1 `webhooks`: the request each receiver that
 * subscribes to them gets (README "Operational events"), so a generated client types them too.
 */
function ownEventWebhooks(): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(OWN_EVENT_DATA).map(([type, data]) => [
      type,
      {
        post: {
          summary: data.description,
          requestBody: { required: true, content: { 'application/json': { schema: WebhookBodySchema(type, data), example: exampleBody(type) } } },
          responses: { '2XX': { description: 'delivered' }, '410': { description: 'disables the receiver: nothing more is sent to it' } },
        },
      },
    ]),
  );
}

/** The body a receiver of `type` gets, with its example data, as it arrives (README "What a receiver gets"). */
function exampleBody(type: string): object {
  return { type, timestamp: examples.accepted.createdAt, data: OWN_EVENT_EXAMPLES[type], fence: examples.attempt.fence };
}

export function withEvents(document: OpenApiDocument, catalog: EventType[]): OpenApiDocument {
  const schemas: Record<string, unknown> = { ...document.components?.schemas };
  for (const type of catalog) {
    const { $schema: _dialect, $id: _id, ...schema } = type.schema ?? {};
    const component = payloadComponent(type.name);
    schemas[component] = {
      ...asOpenApi(schema, `#/components/schemas/${pointerToken(component)}`),
      description: type.description || `payload of ${type.name}`,
      deprecated: type.deprecated,
    };
  }
  const list = catalog
    .map((type) => `- \`${type.name}\`${type.deprecated ? ' (deprecated)' : ''}: ${type.description || '—'} — payload: \`${payloadComponent(type.name)}\``)
    .join('\n');
  const post = document.paths?.['/v1/messages']?.post;
  if (post && catalog.length > 0) post.description = `${post.description ? `${post.description}\n\n` : ''}Event types in the catalog:\n${list}`;
  return { ...document, components: { ...document.components, schemas }, webhooks: { ...document.webhooks, ...ownEventWebhooks() } };
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Keywords whose values are data, not schemas: left as they are. */
const DATA_KEYWORDS = new Set(['enum', 'const', 'default', 'examples', 'example']);
/** Keywords whose values map names (chosen by the author: `items`, `default`…) to schemas. */
const SCHEMA_MAPS = new Set(['properties', 'patternProperties', 'definitions', '$defs', 'dependencies']);

/**
 * A catalog schema (draft-07) as OpenAPI 3.1 (JSON Schema 2020-12) reads it, once moved under
 * `components/schemas`: its own `#…` refs are made to point into its component (`base`), a tuple's
 * `items: [...]` becomes `prefixItems` and its `additionalItems` becomes `items`.
 */
function asOpenApi(schema: Record<string, unknown>, base: string): Record<string, Json> {
  const entries = (value: { [key: string]: Json }, each: (key: string, inner: Json) => Json) =>
    Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, each(key, inner)]));
  const translate = (value: Json): Json => {
    if (Array.isArray(value)) return value.map(translate);
    if (value === null || typeof value !== 'object') return value;
    const out = entries(value, (key, inner) => {
      if (key === '$ref' && typeof inner === 'string' && (inner === '#' || inner.startsWith('#/'))) return `${base}${inner.slice(1)}`;
      if (DATA_KEYWORDS.has(key)) return inner;
      if (SCHEMA_MAPS.has(key) && inner !== null && typeof inner === 'object' && !Array.isArray(inner)) return entries(inner, (_name, sub) => translate(sub));
      return translate(inner);
    });
    if (!Array.isArray(out.items)) return out;
    const { items, additionalItems, ...rest } = out;
    return { ...rest, prefixItems: items, ...(additionalItems === undefined ? {} : { items: additionalItems }) };
  };
  return translate(schema as Json) as Record<string, Json>;
}

/** A name as one JSON Pointer token inside a URI fragment (RFC 6901 §3 and §6). */
function pointerToken(name: string): string {
  return encodeURIComponent(name.replaceAll('~', '~0').replaceAll('/', '~1'));
}
