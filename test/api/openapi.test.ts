import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import SwaggerParser from '@apidevtools/swagger-parser';
import type { OpenAPIV3_1 } from 'openapi-types';
import { readFileSync } from 'node:fs';
import { CLIENT_TYPES_FILE, renderClientTypes } from '../../scripts/client-types.js';
import { PATTERN_WORDS } from '../../src/shapes/common.js';
import { useLockstep } from '../support/in-process.js';
import type { ApiClient } from '../support/lockstep.js';
import {
  CODES_OF_STATUS,
  examplesOf,
  isSuccess,
  jsonExampleOf,
  openApiAjv,
  operationsOf,
  type Documented,
  type ErrorExample,
  type Media,
  type OpenApi,
  type Operation,
} from '../support/openapi-doc.js';

describe('OpenAPI document (/docs)', () => {
  // the same settings as api.test.ts, so the document is the one the API tests exercise
  const context = useLockstep('api', { LOCKSTEP_ALLOW_PRIVATE_NETWORKS: 'false', LOCKSTEP_BODY_LIMIT_BYTES: '65536' });
  let api: ApiClient;
  let doc: OpenApi;
  let operations: Documented[];
  before(async () => {
    ({ api } = context());
    const response = await fetch(`${api.url}/docs/json`);
    assert.equal(response.status, 200);
    doc = (await response.json()) as OpenApi;
    operations = operationsOf(doc);
  });

  test('is a valid OpenAPI 3.1 document for a standard validator', async () => {
    assert.equal(doc.openapi, '3.1.0');
    // the parser dereferences in place: give it a copy
    await SwaggerParser.validate(structuredClone(doc) as unknown as OpenAPIV3_1.Document);
  });

  test("the typed client's committed types are generated from this document", async () => {
    assert.equal(await renderClientTypes(doc), readFileSync(CLIENT_TYPES_FILE, 'utf8'), 'src/client/schema.ts is stale: run `npm run client:generate`');
  });

  test('every operation has a summary, a unique operationId, a 2xx and an error response', () => {
    const problems: string[] = [];
    const ids = new Set<string>();
    for (const { name, operation } of operations) {
      if (!operation.summary) problems.push(`${name}: no summary`);
      if (!operation.operationId || !/^[a-z][A-Za-z]+$/.test(operation.operationId)) problems.push(`${name}: operationId ${operation.operationId}`);
      else if (ids.has(operation.operationId)) problems.push(`${name}: operationId ${operation.operationId} twice`);
      else ids.add(operation.operationId);
      const statuses = Object.keys(operation.responses);
      if (!statuses.some(isSuccess)) problems.push(`${name}: no 2xx response`);
      if (!statuses.some((status) => /^[45]\d\d$/.test(status))) problems.push(`${name}: no error response`);
    }
    assert.deepEqual(problems, []);
  });

  test('documents every public route, and no hidden one', () => {
    const names = operations.map((documented) => documented.name);
    for (const name of [
      'GET /healthz',
      'GET /readyz',
      'GET /metrics',
      'POST /v1/receivers',
      'GET /v1/receivers',
      'GET /v1/receivers/{id}',
      'PATCH /v1/receivers/{id}',
      'DELETE /v1/receivers/{id}',
      'GET /v1/receivers/{id}/secret',
      'GET /v1/receivers/{id}/dead-letters',
      'POST /v1/receivers/{id}/replay',
      'POST /v1/receivers/{id}/secret/rotate',
      'POST /v1/messages',
      'POST /v1/messages/batch',
      'GET /v1/messages/{id}',
      'POST /v1/messages/{id}/resend',
      'GET /v1/locks',
      'GET /v1/stats',
      'POST /v1/event-types',
      'GET /v1/event-types',
      'GET /v1/event-types/{name}',
      'PATCH /v1/event-types/{name}',
      'DELETE /v1/event-types/{name}',
      'GET /v1/messages',
      'POST /v1/receivers/{id}/test',
      'POST /v1/tenants',
      'GET /v1/tenants',
      'GET /v1/tenants/{id}',
      'PATCH /v1/tenants/{id}',
      'DELETE /v1/tenants/{id}',
      'POST /v1/tenants/{id}/portal',
      'POST /v1/tokens',
      'GET /v1/tokens',
      'DELETE /v1/tokens/{id}',
    ]) {
      assert.ok(names.includes(name), `${name} is documented`);
    }
    assert.deepEqual(
      names.filter((name) => / \/(ui|docs)\b/.test(name)),
      [],
      'the dashboard and /docs themselves are hidden',
    );
  });

  test('every operation has a summary, an example request body and an example for each 2xx response', () => {
    const missing: string[] = [];
    for (const { name, operation } of operations) {
      if (!operation.summary) missing.push(`${name}: summary`);
      for (const [type, media] of Object.entries(operation.requestBody?.content ?? {})) {
        if (examplesOf(media).length === 0) missing.push(`${name}: request ${type}`);
      }
      for (const [status, response] of Object.entries(operation.responses).filter(([code]) => isSuccess(code))) {
        if (status === '204') assert.equal(response.content, undefined, `${name} 204 has no body`);
        else if (!response.content) missing.push(`${name}: ${status} content`);
        for (const [type, media] of Object.entries(response.content ?? {})) {
          if (examplesOf(media).length === 0) missing.push(`${name}: ${status} ${type}`);
        }
      }
      for (const parameter of operation.parameters?.filter((p) => p.in === 'path') ?? []) {
        if (parameter.example === undefined) missing.push(`${name}: path parameter ${parameter.name}`);
      }
    }
    assert.deepEqual(missing, [], 'without an example');
  });

  test('every example, request or response, validates against its own schema', () => {
    const ajv = openApiAjv();
    const invalid: string[] = [];
    let checked = 0;
    for (const { name, operation } of operations) {
      const media = [
        ...Object.entries(operation.requestBody?.content ?? {}).map(([type, m]): [string, Media] => [`request ${type}`, m]),
        ...Object.entries(operation.responses).flatMap(([status, response]) =>
          Object.entries(response.content ?? {}).map(([type, m]): [string, Media] => [`${status} ${type}`, m]),
        ),
      ];
      for (const [where, shown] of media) {
        const validate = ajv.compile(shown.schema ?? {});
        for (const example of examplesOf(shown)) {
          checked += 1;
          if (!validate(example)) invalid.push(`${name} ${where}: ${ajv.errorsText(validate.errors)}`);
        }
      }
    }
    assert.ok(checked > 50, `${checked} examples checked`);
    assert.deepEqual(invalid, [], 'examples that do not match their schema');
  });

  test('every event Lockstep sends itself (`webhooks`) has an example body that validates against its schema', () => {
    const webhooks = (doc as OpenApi & { webhooks: Record<string, { post: { requestBody: { content: Record<string, Media> } } }> }).webhooks;
    const ajv = openApiAjv();
    const problems = Object.entries(webhooks).flatMap(([type, { post }]) => {
      const media = post.requestBody.content['application/json'];
      const [example] = media ? examplesOf(media) : [];
      if (example === undefined) return [`${type}: no example`];
      return ajv.validate(media?.schema ?? {}, example) ? [] : [`${type}: ${ajv.errorsText(ajv.errors)}`];
    });
    assert.ok(Object.keys(webhooks).length >= 8);
    assert.deepEqual(problems, []);
  });

  test('examples look like real Lockstep values', () => {
    const shown = JSON.stringify(operations.map(({ operation }) => operation));
    for (const id of shown.match(/"(rcv|msg)_[^"]*"/g) ?? []) assert.match(id, /^"(rcv|msg)_[0-9abcdefghjkmnpqrstvwxyz]{26}"$/, `${id} is a Lockstep id`);
    for (const secret of shown.match(/"whsec_[^"]*"/g) ?? []) assert.match(secret, /^"whsec_[A-Za-z0-9+/]{32,}={0,2}"$/, `${secret} is a signing secret`);
    assert.match(shown, /"emitterId":"worker-1-4242"/);
    assert.match(shown, /"fence":\d+/);
  });

  test("the signing secret is in the create's 201, GET …/secret and a rotation's 200 only, schema and example", () => {
    const withSecret = operations.flatMap(({ name, operation }) =>
      Object.entries(operation.responses)
        .filter(([, response]) => /"secret":/.test(JSON.stringify(response.content ?? {})))
        .map(([status]) => `${name} ${status}`),
    );
    assert.deepEqual(withSecret.sort(), ['GET /v1/receivers/{id}/secret 200', 'POST /v1/receivers 201', 'POST /v1/receivers/{id}/secret/rotate 200']);
  });

  test('an API token is in the 201 of POST /v1/tokens only, schema and example', () => {
    const withToken = operations.flatMap(({ name, operation }) =>
      Object.entries(operation.responses)
        .filter(([, response]) => /"token"/.test(JSON.stringify(response.content ?? {})))
        .map(([status]) => `${name} ${status}`),
    );
    assert.deepEqual(withToken, ['POST /v1/tokens 201']);
  });

  test('every /v1 operation shows its errors: 401 without a token, a 400 naming the field, a 404 for an unknown id', () => {
    const problems: string[] = [];
    for (const { name, path, operation } of operations.filter((documented) => documented.path.startsWith('/v1/'))) {
      for (const [status, response] of Object.entries(operation.responses).filter(([code]) => !isSuccess(code))) {
        const example = response.content?.['application/json'] && (examplesOf(response.content['application/json'])[0] as ErrorExample | undefined);
        if (example?.statusCode !== Number(status)) problems.push(`${name} ${status}: example has statusCode ${example?.statusCode}`);
        if (!CODES_OF_STATUS[status]?.includes(example?.code ?? '')) problems.push(`${name} ${status}: example has code ${example?.code}`);
      }
      if (!/bearer token/.test(jsonExampleOf(operation, 401)?.message ?? '')) problems.push(`${name}: no 401 naming the bearer token`);
      const takesInput = operation.requestBody !== undefined || (operation.parameters?.length ?? 0) > 0;
      const badInput = jsonExampleOf(operation, 400);
      if (takesInput && !(badInput?.field && badInput.message?.startsWith(badInput.field))) problems.push(`${name}: no 400 naming its field`);
      if (
        path.includes('{id}') &&
        !/^(receiver rcv_\w+|message msg_\w+|token tok_\w+|tenant [\w.-]+) not found$/.test(jsonExampleOf(operation, 404)?.message ?? '')
      )
        problems.push(`${name}: no 404 for an unknown id`);
      if (path.includes('{name}') && !/^event type [\w.-]+ not found$/.test(jsonExampleOf(operation, 404)?.message ?? ''))
        problems.push(`${name}: no 404 for an unknown event type`);
      if (!path.includes('{id}') && !path.includes('{name}') && operation.responses['404']) problems.push(`${name}: documents a 404 it cannot answer`);
    }
    assert.deepEqual(problems, []);
  });

  test('every pattern a request is checked against is said in words, and no error example quotes a regular expression', () => {
    const patterns = new Set<string>();
    JSON.stringify(doc, (key, value: unknown) => {
      if (key === 'pattern' && typeof value === 'string') patterns.add(value);
      return value;
    });
    assert.ok(patterns.size >= 10, `${patterns.size} patterns found`);
    assert.deepEqual(
      [...patterns].filter((pattern) => !PATTERN_WORDS[pattern]),
      [],
      'patterns a refusal would quote as a regular expression: add words to PATTERN_WORDS (src/shapes/common.ts)',
    );
    const quoting = operations
      .flatMap(({ name, operation }) =>
        Object.keys(operation.responses).map((status) => `${name} ${status}: ${jsonExampleOf(operation, Number(status))?.message}`),
      )
      .filter((example) => /must match pattern|must have required property/.test(example));
    assert.deepEqual(quoting, [], 'error examples worded otherwise than the server words them');
  });

  test('the documented request examples are accepted as documented', async () => {
    // only bodies without a path id: those with one name a resource the example assumes exists
    const ajv = openApiAjv();
    for (const { name, method, path, operation } of operations.filter((documented) => documented.method === 'POST' && !documented.path.includes('{'))) {
      const body = examplesOf(operation.requestBody?.content['application/json'] ?? {})[0];
      const [status, documented] = Object.entries(operation.responses).find(([code]) => isSuccess(code)) ?? [];
      const answer = await api.request<unknown>(method, path, body);
      assert.equal(answer.status, Number(status), `${name} with its example: ${JSON.stringify(answer.body)}`);
      const schema = documented?.content?.['application/json']?.schema ?? {};
      assert.ok(ajv.validate(schema, answer.body), `${name} answers as documented: ${ajv.errorsText(ajv.errors)}`);
    }
  });

  test('health routes show their text and JSON answers', async () => {
    const byName = (wanted: string): Operation | undefined => operations.find(({ name }) => name === wanted)?.operation;
    assert.deepEqual(jsonExampleOf(byName('GET /readyz') as Operation, 503), { status: 'unavailable', redis: true, lockBackend: { name: 'etcd', ok: false } });
    const metricsExample = examplesOf(byName('GET /metrics')?.responses['200']?.content?.['text/plain'] ?? {})[0];
    assert.equal(typeof metricsExample, 'string');
    const metrics = await fetch(`${api.url}/metrics`, { headers: { authorization: `Bearer ${api.token}` } });
    assert.match(metrics.headers.get('content-type') ?? '', /^text\/plain/);
    assert.match(await metrics.text(), /^# HELP lockstep_/);
    assert.match(String(metricsExample), /^# HELP lockstep_/, 'the example reads like the real answer');
  });

  test('/docs answers with HTML whose assets all come from this origin', async () => {
    const page = await fetch(`${api.url}/docs`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    const html = await page.text();
    const origin = new URL(api.url).origin;
    const assets = [...html.matchAll(/\b(?:src|href)\s*=\s*["']([^"']+)["']/gi)].map((match) => new URL(match[1] ?? '', page.url));
    assert.ok(
      assets.some((asset) => asset.pathname.endsWith('.js')),
      'the page loads its script',
    );
    // under Lockstep's name and lock, not the docs library's
    assert.match(html, /<title>Lockstep API<\/title>/);
    assert.ok(
      assets.some((asset) => asset.pathname.endsWith('/favicon.svg')),
      "the dashboard's icon",
    );
    assert.deepEqual(
      [...html.matchAll(/https?:\/\/[^\s"'<>)]+/gi)].map(([url]) => url).filter((url) => new URL(url).origin !== origin),
      [],
      'no URL of another host',
    );
    for (const asset of assets) {
      assert.equal(asset.origin, origin, `${asset.href} is served from this origin`);
      const loaded = await fetch(asset);
      // read to the end: an unread megabyte holds the connection open, and the server's close waits for it
      await loaded.arrayBuffer();
      assert.equal(loaded.status, 200, `${asset.href} loads`);
    }
  });
});
