import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { Ajv } from 'ajv';
import { useLockstep } from '../support/in-process.js';
import type { ApiClient } from '../support/lockstep.js';

interface Media { schema?: object; example?: unknown; examples?: Record<string, { value: unknown }> }
interface Operation {
  summary?: string;
  requestBody?: { content: Record<string, Media> };
  responses: Record<string, { description?: string; content?: Record<string, Media> }>;
}
interface OpenApi { paths: Record<string, Record<string, Operation>> }

/** The examples a media type shows: `example`, or each of `examples`. */
const examplesOf = (media: Media): unknown[] => (media.example !== undefined ? [media.example] : Object.values(media.examples ?? {}).map((e) => e.value));

describe('OpenAPI document (/docs)', () => {
  const context = useLockstep('api', {});
  let api: ApiClient;
  let doc: OpenApi;
  before(async () => {
    ({ api } = context());
    doc = (await (await fetch(`${api.url}/docs/json`)).json()) as OpenApi;
  });

  const operations = (): [string, Operation][] =>
    Object.entries(doc.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, operation]): [string, Operation] => [`${method.toUpperCase()} ${path}`, operation]));

  test('every route has a summary, an example request body and an example for each response with content', () => {
    // OpenAPI 3.0 schemas say `nullable`; ajv knows it, and `example` is an annotation
    const ajv = new Ajv({ strict: false, allErrors: true });
    const missing: string[] = [];
    const invalid: string[] = [];
    const check = (where: string, media: Media): void => {
      const shown = examplesOf(media);
      if (shown.length === 0) return void missing.push(where);
      const validate = ajv.compile(media.schema ?? {});
      for (const example of shown) if (!validate(example)) invalid.push(`${where}: ${ajv.errorsText(validate.errors)}`);
    };
    assert.ok(operations().length >= 16, `${operations().length} operations documented`);
    for (const [name, operation] of operations()) {
      if (!operation.summary) missing.push(`${name} summary`);
      for (const [type, media] of Object.entries(operation.requestBody?.content ?? {})) check(`${name} request ${type}`, media);
      for (const [status, response] of Object.entries(operation.responses)) {
        for (const [type, media] of Object.entries(response.content ?? {})) check(`${name} ${status} ${type}`, media);
        if (status.startsWith('2') && status !== '204' && !response.content) missing.push(`${name} ${status} content`);
      }
    }
    assert.deepEqual(missing, [], 'without an example');
    assert.deepEqual(invalid, [], 'examples that do not match their schema');
  });

  test('the new routes are documented, errors with the field they name', () => {
    for (const path of ['/v1/receivers/{id}/dead-letters', '/v1/stats', '/healthz', '/readyz', '/metrics']) assert.ok(doc.paths[path], path);
    const created = doc.paths['/v1/receivers']?.post?.responses['400']?.content?.['application/json'];
    assert.equal((created?.example as { field?: string } | undefined)?.field, 'url');
  });

  test('the /docs page loads only from this origin, and /metrics stays plain text', async () => {
    const page = await fetch(`${api.url}/docs/static/index.html`);
    assert.equal(page.status, 200);
    assert.doesNotMatch(await page.text(), /(src|href)="(https?:)?\/\//, 'no asset from another origin');
    const metrics = await fetch(`${api.url}/metrics`);
    assert.match(metrics.headers.get('content-type') ?? '', /^text\/plain/);
    assert.match(await metrics.text(), /^# HELP /);
  });
});
