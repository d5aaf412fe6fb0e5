import type { FastifyInstance } from 'fastify';
import type { EventTypes } from '../domain/event-types.js';
import type { EventType } from '../shapes/event-types.js';

type OpenApiDocument = {
  components?: { schemas?: Record<string, unknown> };
  paths?: Record<string, Record<string, { description?: string }>>;
};

/** The component a catalogued type's payload is documented under. */
export const payloadComponent = (name: string): string => `EventPayload.${name}`;

/**
 * /docs describes the catalog: the OpenAPI document is built once at start-up, the catalog changes
 * at run time, so each answer of /docs/json gets one component per catalogued type (its payload
 * schema, description and `deprecated` flag) and a list of the types in POST /v1/messages'
 * description. The catalog is read through the domain, like any other answer; if Redis does not
 * answer, the document goes out without it.
 */
export function eventTypeDocs(app: FastifyInstance, eventTypes: EventTypes): void {
  app.addHook('onSend', async (request, _reply, payload) => {
    if (request.routeOptions.url !== '/docs/json' || typeof payload !== 'string') return payload;
    const catalog = await eventTypes.list().catch(() => undefined);
    return catalog?.length ? JSON.stringify(withCatalog(JSON.parse(payload) as OpenApiDocument, catalog)) : payload;
  });
}

export function withCatalog(document: OpenApiDocument, catalog: EventType[]): OpenApiDocument {
  const schemas: Record<string, unknown> = { ...document.components?.schemas };
  for (const type of catalog) {
    const { $schema: _dialect, $id: _id, ...schema } = type.schema ?? {};
    schemas[payloadComponent(type.name)] = { ...schema, description: type.description || `payload of ${type.name}`, deprecated: type.deprecated };
  }
  const list = catalog
    .map((type) => `- \`${type.name}\`${type.deprecated ? ' (deprecated)' : ''}: ${type.description || '—'} — payload: \`${payloadComponent(type.name)}\``)
    .join('\n');
  const post = document.paths?.['/v1/messages']?.post;
  if (post) post.description = `${post.description ? `${post.description}\n\n` : ''}Event types in the catalog:\n${list}`;
  return { ...document, components: { ...document.components, schemas } };
}
