import SwaggerParser from '@apidevtools/swagger-parser';
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { EventType, EventTypeList } from '../../src/shapes/event-types.js';
import { useLockstep } from '../support/in-process.js';
import type { ApiClient } from '../support/lockstep.js';
import type { OpenAPIV3_1 } from 'openapi-types';

type Problem = { statusCode: number; field?: string; message?: string };

const invoiceSchema = {
  type: 'object',
  required: ['invoiceId', 'amount'],
  properties: {
    invoiceId: { type: 'string' },
    amount: { type: 'number' },
    lines: { type: 'array', items: { type: 'object', properties: { qty: { type: 'integer' } } } },
  },
  additionalProperties: false,
};

/** Issue 17 item 3: the event-type catalog, its schemas checked when stored and at intake. */
describe('event-type catalog', () => {
  const context = useLockstep('api', {});
  let api: ApiClient;
  before(() => ({ api } = context()));

  const refusal = async (body: unknown, path = '/v1/messages'): Promise<Problem> => (await api.request<Problem>('POST', path, body)).body;

  test('create, read, list, patch, delete; a second create of a name is a 409', async () => {
    const created = await api.request<EventType>('POST', '/v1/event-types', { name: 'invoice.paid', description: 'paid', schema: invoiceSchema });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.deepEqual(
      { ...created.body, createdAt: 'x', updatedAt: 'x' },
      { name: 'invoice.paid', description: 'paid', schema: invoiceSchema, deprecated: false, createdAt: 'x', updatedAt: 'x' },
    );
    assert.deepEqual((await api.request('GET', '/v1/event-types/invoice.paid')).body, created.body);
    const again = await api.request<Problem>('POST', '/v1/event-types', { name: 'invoice.paid' });
    assert.deepEqual([again.status, again.body.field], [409, 'name']);
    await api.request('POST', '/v1/event-types', { name: 'a.first' });
    assert.deepEqual(
      (await api.request<EventTypeList>('GET', '/v1/event-types')).body.data.map((type) => type.name),
      ['a.first', 'invoice.paid'],
    );
    const patched = await api.request<EventType>('PATCH', '/v1/event-types/a.first', { deprecated: true, description: 'old' });
    assert.deepEqual([patched.status, patched.body.deprecated, patched.body.description], [200, true, 'old']);
    assert.equal((await api.request('DELETE', '/v1/event-types/a.first')).status, 204);
    assert.equal((await api.request('GET', '/v1/event-types/a.first')).status, 404);
    assert.equal((await api.request('DELETE', '/v1/event-types/a.first')).status, 404);
    assert.equal((await api.request('PATCH', '/v1/event-types/a.first', { deprecated: false })).status, 404);
    const badName = await api.request<Problem>('GET', '/v1/event-types/bad*name');
    assert.deepEqual([badName.status, badName.body.field], [400, 'params.name'], JSON.stringify(badName.body));
  });

  test('unknown fields and an empty PATCH are a 400 naming the field', async () => {
    const unknown = await api.request<Problem>('POST', '/v1/event-types', { name: 'x.unknown', colour: 'red' });
    assert.deepEqual([unknown.status, unknown.body.field], [400, 'colour'], JSON.stringify(unknown.body));
    const renamed = await api.request<Problem>('PATCH', '/v1/event-types/invoice.paid', { name: 'other.name' });
    assert.deepEqual([renamed.status, renamed.body.field], [400, 'name'], JSON.stringify(renamed.body));
    const empty = await api.request<Problem>('PATCH', '/v1/event-types/invoice.paid', {});
    assert.deepEqual([empty.status, empty.body.field], [400, 'body'], JSON.stringify(empty.body));
    assert.equal((await api.request('GET', '/v1/event-types/x.unknown')).status, 404);
    assert.deepEqual((await api.request<EventType>('GET', '/v1/event-types/invoice.paid')).body.schema, invoiceSchema);
  });

  test('`$async` anywhere in a schema is a 400 naming `schema` (Ajv would answer a Promise, taken for a pass)', async () => {
    const nested = { type: 'object', properties: { a: { $ref: '#/definitions/a' } }, definitions: { a: { $async: true, type: 'string' } } };
    for (const schema of [{ $async: true, type: 'object' }, nested]) {
      const answer = await api.request<Problem>('POST', '/v1/event-types', { name: 'async.schema', schema });
      assert.deepEqual([answer.status, answer.body.field], [400, 'schema'], JSON.stringify(answer.body));
      assert.match(answer.body.message ?? '', /\$async/);
      const patch = await api.request<Problem>('PATCH', '/v1/event-types/invoice.paid', { schema });
      assert.deepEqual([patch.status, patch.body.field], [400, 'schema']);
    }
    assert.equal((await api.request('GET', '/v1/event-types/async.schema')).status, 404);
  });

  test('a stored schema that does not compile answers a coded 500 naming the type, and the API stays up', async () => {
    const admin = context().redis.client();
    try {
      const [key] = await admin.keys('*:event-types');
      const stored = (schema: object) =>
        JSON.stringify({ name: 'broken.schema', description: '', deprecated: false, createdAt: '', updatedAt: '', version: JSON.stringify(schema), schema });
      for (const schema of [{ $async: true, type: 'object' }, { type: 'numbr' }]) {
        await admin.hset(key ?? '', 'broken.schema', stored(schema));
        const answer = await api.request<Problem & { code?: string }>('POST', '/v1/messages', { eventType: 'broken.schema', payload: { a: 1 } });
        assert.deepEqual([answer.status, answer.body.code], [500, 'LOCKSTEP_INTERNAL'], JSON.stringify(answer.body));
        assert.match(answer.body.message ?? '', /broken\.schema/);
      }
      await admin.hdel(key ?? '', 'broken.schema');
      assert.equal((await api.request('POST', '/v1/messages', { eventType: 'invoice.paid', payload: { invoiceId: 'i', amount: 1 } })).status, 202);
    } finally {
      admin.disconnect();
    }
  });

  test('an invalid schema is a 400 naming `schema`, and nothing is stored or changed', async () => {
    for (const schema of [{ type: 'numbr' }, { type: 'object', requierd: ['a'] }, { $ref: '#/definitions/missing' }, { minimum: 'zero' }]) {
      const answer = await api.request<Problem>('POST', '/v1/event-types', { name: 'bad.schema', schema });
      assert.deepEqual([answer.status, answer.body.field], [400, 'schema'], JSON.stringify([schema, answer.body]));
      const patch = await api.request<Problem>('PATCH', '/v1/event-types/invoice.paid', { schema });
      assert.deepEqual([patch.status, patch.body.field], [400, 'schema']);
    }
    assert.equal((await api.request('GET', '/v1/event-types/bad.schema')).status, 404);
    assert.deepEqual((await api.request<EventType>('GET', '/v1/event-types/invoice.paid')).body.schema, invoiceSchema);
    assert.equal((await api.request<Problem>('POST', '/v1/event-types', { name: 'x.y', schema: 'string' })).status, 400);
  });

  test('intake refuses a payload its type’s schema does not accept, 422 naming the path to the value; others pass', async () => {
    const bad: [unknown, string, RegExp][] = [
      [{ invoiceId: 'i', amount: 'ten' }, 'payload.amount', /^payload\.amount must be number$/],
      [{ invoiceId: 'i' }, 'payload.amount', /^payload\.amount is required$/],
      [{ invoiceId: 'i', amount: 1, lines: [{ qty: 1 }, { qty: 1.5 }] }, 'payload.lines[1].qty', /^payload\.lines\[1\]\.qty must be integer$/],
      [{ invoiceId: 'i', amount: 1, extra: true }, 'payload.extra', /^payload\.extra is not a known field$/],
      [{ invoiceId: 'i', amount: 1, invoiceID: 'j' }, 'payload.invoiceID', /^payload\.invoiceID is not a known field \(did you mean invoiceId\?\)$/],
      [{ invoiceId: 'i', amout: 1 }, 'payload.amount', /^payload\.amount is required, and payload\.amout is not a known field$/],
      [{ invoiceId: 'i', amount: 1, 'odd key': true }, 'payload["odd key"]', /^payload\["odd key"\] is not a known field$/],
      [[1], 'payload', /must be object/],
    ];
    for (const [payload, field, message] of bad) {
      const body = await refusal({ eventType: 'invoice.paid', payload });
      assert.deepEqual([body.statusCode, body.field], [422, field], JSON.stringify(body));
      assert.match(body.message ?? '', message);
    }
    assert.equal((await api.request('POST', '/v1/messages', { eventType: 'invoice.paid', payload: { invoiceId: 'i', amount: 1.5 } })).status, 202);
    assert.equal((await api.request('POST', '/v1/messages', { eventType: 'not.catalogued', payload: 'anything' })).status, 202);
  });

  test('a batch checks every message and names the one that fails; nothing of it is stored', async () => {
    const body = await refusal(
      {
        messages: [
          { eventType: 'invoice.paid', payload: { invoiceId: 'a', amount: 1 }, idempotencyKey: 'batch-schema-1' },
          { eventType: 'invoice.paid', payload: { invoiceId: 'b', amount: false } },
        ],
      },
      '/v1/messages/batch',
    );
    assert.deepEqual([body.statusCode, body.field, body.message], [422, 'messages[1].payload.amount', 'messages[1].payload.amount must be number']);
    const retry = await api.request<{ data: { duplicate?: boolean }[] }>('POST', '/v1/messages/batch', {
      messages: [{ eventType: 'invoice.paid', payload: { invoiceId: 'a', amount: 1 }, idempotencyKey: 'batch-schema-1' }],
    });
    assert.equal(retry.status, 202);
    assert.notEqual(JSON.stringify(retry.body).includes('"duplicate":true'), true, 'the refused batch stored nothing');
  });

  test('a schema change applies at once; removing the schema stops the checks', async () => {
    await api.request('PATCH', '/v1/event-types/invoice.paid', { schema: { type: 'object', properties: { amount: { type: 'string' } } } });
    assert.equal((await refusal({ eventType: 'invoice.paid', payload: { amount: 1 } })).field, 'payload.amount');
    assert.equal((await api.request('POST', '/v1/messages', { eventType: 'invoice.paid', payload: { amount: 'one' } })).status, 202);
    const removed = await api.request<EventType>('PATCH', '/v1/event-types/invoice.paid', { schema: null });
    assert.equal(removed.body.schema, undefined);
    assert.equal((await api.request('POST', '/v1/messages', { eventType: 'invoice.paid', payload: { amount: 1 } })).status, 202);
  });

  test('a change made through another API process applies there too (validators are cached by version)', async () => {
    const other = await context().startMore('api', {});
    await api.request('PATCH', '/v1/event-types/invoice.paid', { schema: { type: 'object', properties: { n: { type: 'integer' } } } });
    assert.equal((await other.api.request<Problem>('POST', '/v1/messages', { eventType: 'invoice.paid', payload: { n: 'x' } })).body.field, 'payload.n');
    await other.api.request('PATCH', '/v1/event-types/invoice.paid', { schema: { type: 'object', properties: { n: { type: 'string' } } } });
    assert.equal((await refusal({ eventType: 'invoice.paid', payload: { n: 1 } })).field, 'payload.n');
    assert.equal((await api.request('POST', '/v1/messages', { eventType: 'invoice.paid', payload: { n: 'x' } })).status, 202);
    // each process checks with the catalog it holds; the accept refuses one checked with an older
    // catalog (passed, above), and a refusal is confirmed against the catalog as it is now (here)
    await other.api.request('PATCH', '/v1/event-types/invoice.paid', { schema: { type: 'object', properties: { n: { type: 'integer' } } } });
    assert.equal((await api.request('POST', '/v1/messages', { eventType: 'invoice.paid', payload: { n: 2 } })).status, 202);
    await api.request('PATCH', '/v1/event-types/invoice.paid', { schema: { type: 'object', properties: { n: { type: 'string' } } } });
  });

  test('a batch checked up front with a catalog another process has changed since is checked again, and refused whole', async () => {
    const other = await context().startMore('api', {});
    const batch = (n: unknown) => ({ messages: [{ eventType: 'invoice.paid', payload: { n }, idempotencyKey: 'stale-catalog-batch' }] });
    assert.equal((await api.request('POST', '/v1/messages', { eventType: 'invoice.paid', payload: { n: 'x' } })).status, 202); // this process holds the string schema
    await other.api.request('PATCH', '/v1/event-types/invoice.paid', { schema: { type: 'object', properties: { n: { type: 'integer' } } } });
    // passes the check with the schema this process holds; the accept finds the catalog changed, and the check again refuses it
    const refused = await refusal(batch('y'), '/v1/messages/batch');
    assert.deepEqual([refused.statusCode, refused.field], [422, 'messages[0].payload.n'], JSON.stringify(refused));
    const stored = await api.request<{ data: { duplicate?: boolean }[] }>('POST', '/v1/messages/batch', batch(1));
    assert.deepEqual([stored.status, stored.body.data[0]?.duplicate], [202, undefined], 'the refused batch stored nothing under its key');
    await api.request('PATCH', '/v1/event-types/invoice.paid', { schema: { type: 'object', properties: { n: { type: 'string' } } } });
  });

  test('PATCHes racing each other both apply; a PATCH racing a DELETE never brings the type back (compare and set)', async () => {
    for (let round = 0; round < 10; round++) {
      await api.request('POST', '/v1/event-types', { name: 'race.type', description: 'start', deprecated: false });
      const patches = Array.from({ length: 10 }, (_, n) =>
        api.request<EventType>('PATCH', '/v1/event-types/race.type', n % 2 ? { description: `round ${round}` } : { deprecated: true }),
      );
      assert.deepEqual(
        (await Promise.all(patches)).map((answer) => answer.status).filter((status) => status !== 200),
        [],
      );
      const shown = (await api.request<EventType>('GET', '/v1/event-types/race.type')).body;
      assert.deepEqual([shown.description, shown.deprecated], [`round ${round}`, true], `round ${round}: no PATCH lost`);
      const racing = Array.from({ length: 10 }, () => api.request('PATCH', '/v1/event-types/race.type', { description: 'late' }));
      const [deleted, ...patched] = await Promise.all([api.request('DELETE', '/v1/event-types/race.type'), ...racing]);
      assert.equal(deleted.status, 204);
      assert.deepEqual(
        patched.map((answer) => answer.status).filter((status) => status !== 200 && status !== 404),
        [],
      );
      assert.equal((await api.request('GET', '/v1/event-types/race.type')).status, 404, `round ${round}: the deleted type stays deleted`);
    }
  });

  test('/docs/json describes each catalogued type’s payload, and stays a valid OpenAPI document', async () => {
    const draft07 = {
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'object',
      definitions: {
        money: { type: 'object', properties: { amount: { type: 'integer' }, items: { $ref: '#/definitions/point' } } },
        point: { type: 'number' },
      },
      properties: {
        total: { $ref: '#/definitions/money' },
        point: { type: 'array', items: [{ $ref: '#/definitions/point' }, { type: 'string' }], additionalItems: false },
      },
    };
    assert.equal((await api.request('POST', '/v1/event-types', { name: 'order.shipped', schema: draft07 })).status, 201);
    const document = (await (await fetch(`${api.url}/docs/json`)).json()) as {
      components: {
        schemas: Record<string, { description?: string; properties?: object; definitions?: Record<string, { properties?: Record<string, object> }> }>;
      };
      paths: Record<string, Record<string, { description?: string }>>;
    };
    const component = document.components.schemas['EventPayload.invoice.paid'];
    assert.equal(component?.description, 'paid');
    assert.deepEqual(component?.properties, { n: { type: 'string' } });
    assert.match(document.paths['/v1/messages']?.post?.description ?? '', /`invoice\.paid`: paid/);
    const shipped = '#/components/schemas/EventPayload.order.shipped';
    assert.deepEqual(document.components.schemas['EventPayload.order.shipped']?.properties, {
      total: { $ref: `${shipped}/definitions/money` },
      point: { type: 'array', prefixItems: [{ $ref: `${shipped}/definitions/point` }, { type: 'string' }], items: false },
    });
    assert.deepEqual(document.components.schemas['EventPayload.order.shipped']?.definitions?.money?.properties?.items, {
      $ref: `${shipped}/definitions/point`,
    });
    await SwaggerParser.validate(structuredClone(document) as unknown as OpenAPIV3_1.Document); // still a valid OpenAPI document
  });
});

describe('LOCKSTEP_REQUIRE_KNOWN_EVENT_TYPES=true', () => {
  const context = useLockstep('api', { LOCKSTEP_REQUIRE_KNOWN_EVENT_TYPES: 'true' });

  test('refuses types not in the catalog (422 naming eventType), accepts catalogued ones, deprecated too', async () => {
    const { api } = context();
    const single = await api.request<Problem>('POST', '/v1/messages', { eventType: 'order.created', payload: {} });
    assert.deepEqual([single.status, single.body.field], [422, 'eventType'], JSON.stringify(single.body));
    await api.request('POST', '/v1/event-types', { name: 'order.created', deprecated: true });
    assert.equal((await api.request('POST', '/v1/messages', { eventType: 'order.created', payload: {} })).status, 202);
    const batch = await api.request<Problem>('POST', '/v1/messages/batch', {
      messages: [
        { eventType: 'order.created', payload: {} },
        { eventType: 'order.deleted', payload: {} },
      ],
    });
    assert.deepEqual([batch.status, batch.body.field], [422, 'messages[1].eventType']);
  });
});
