import assert from 'node:assert/strict';
import type { ApiClient } from './lockstep.js';
import { openApiAjv } from './openapi-doc.js';
import type { TestReceiver } from './receiver.js';

/** A body Lockstep sent about itself, with the `data` fields the operational events' tests read. */
export interface OwnEvent {
  type: string;
  data: {
    receiverId: string;
    tenantId?: string;
    url?: string;
    description?: string;
    eventTypes?: string[];
    enabled?: boolean;
    changed?: string[];
    by?: string;
    messageId?: string;
    eventType?: string;
    attempts?: number;
    reason?: string;
    lastAttempt?: { messageId: string; attempt: number; statusCode: number | null };
    health?: { consecutiveFailures: number; breaker: { state: string } };
  };
}

/** The events about a receiver's life the API publishes (the rest are about deliveries). */
export const LIFECYCLE = ['lockstep.receiver.created', 'lockstep.receiver.updated', 'lockstep.receiver.deleted'];

/** What the test receiver's `name` path got, parsed. */
export function bodiesAt(receiver: TestReceiver, name: string): OwnEvent[] {
  return receiver.for(name).map((request) => JSON.parse(request.body) as OwnEvent);
}

/**
 * Checks each of Lockstep's own events among `sent` against its documented webhook (GET /docs/json
 * `webhooks`); returns the documented event types and the types sent.
 */
export async function checkDocumented(api: ApiClient, sent: OwnEvent[]): Promise<{ documented: string[]; types: string[] }> {
  const doc = (await (await fetch(`${api.url}/docs/json`)).json()) as {
    webhooks: Record<string, { post: { requestBody: { content: { 'application/json': { schema: object } } } } }>;
  };
  const ajv = openApiAjv();
  const own = sent.filter((event) => event.type.startsWith('lockstep.'));
  for (const event of own) {
    const schema = doc.webhooks[event.type]?.post.requestBody.content['application/json'].schema;
    assert.ok(schema, `${event.type} is documented`);
    assert.ok(ajv.validate(schema, event), `${event.type}: ${ajv.errorsText(ajv.errors)}`);
  }
  return { documented: Object.keys(doc.webhooks).sort(), types: [...new Set(own.map((event) => event.type))].sort() };
}

/** The `lockstep_operational_events_total` series of one event type and result, from GET /metrics. */
export async function operationalEventCount(api: ApiClient, type: string, result: 'published' | 'lost'): Promise<number> {
  const metrics = await (await fetch(`${api.url}/metrics`, { headers: { authorization: `Bearer ${api.token}` } })).text();
  const series = new RegExp(`^lockstep_operational_events_total\\{type="${type.replaceAll('.', '\\.')}",result="${result}"\\} (\\d+)$`, 'm');
  return Number(series.exec(metrics)?.[1] ?? Number.NaN);
}
