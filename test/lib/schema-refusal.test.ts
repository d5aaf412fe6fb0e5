import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fieldPath, schemaRefusal } from '../../src/lib/schema-refusal.js';

test('a field is named as JavaScript reads it, whatever the keys hold', () => {
  assert.equal(fieldPath('', ['messages', '1', 'receiverIds', '0']), 'messages[1].receiverIds[0]');
  assert.equal(fieldPath('headers', ['x-trace']), 'headers.x-trace');
  assert.equal(fieldPath('messages[3].payload', ['lines', '0', 'qty']), 'messages[3].payload.lines[0].qty');
  assert.equal(fieldPath('payload', ['a.b', 'say "hi"', '', '01']), 'payload["a.b"]["say \\"hi\\""][""]["01"]');
});

test('an Ajv error becomes a field and a problem: its JSON Pointer unescaped, a missing or unknown property named', () => {
  assert.deepEqual(schemaRefusal({ keyword: 'type', instancePath: '/a~1b/c~0d', message: 'must be integer' }, 'payload'), {
    field: 'payload["a/b"]["c~d"]',
    problem: 'must be integer',
  });
  assert.deepEqual(schemaRefusal({ keyword: 'required', instancePath: '/lines/2', params: { missingProperty: 'qty' } }, 'payload'), {
    field: 'payload.lines[2].qty',
    problem: 'is required',
  });
  assert.deepEqual(schemaRefusal({ keyword: 'minProperties', instancePath: '', params: { limit: 1 } }, ''), {
    field: 'body',
    problem: 'must name at least one field',
  });
});

test('sizes and ranges are said plainly, not as Ajv says them ("must NOT have fewer than 1 items")', () => {
  const problem = (keyword: string, params: Record<string, unknown>) => schemaRefusal({ keyword, instancePath: '/x', params, message: 'ajv' }, '').problem;
  assert.equal(problem('minItems', { limit: 1 }), 'must have at least 1 item');
  assert.equal(problem('maxItems', { limit: 1000 }), 'must have at most 1,000 items');
  assert.equal(problem('minLength', { limit: 1 }), 'must not be empty');
  assert.equal(problem('maxLength', { limit: 256 }), 'must be at most 256 characters long');
  assert.equal(problem('minimum', { comparison: '>=', limit: 0.01 }), 'must be at least 0.01');
  assert.equal(problem('maximum', { comparison: '<=', limit: 256 }), 'must be at most 256');
  assert.equal(problem('uniqueItems', { i: 0, j: 2 }), 'must not repeat an item (items 0 and 2 are the same)'); // Ajv names the later first
  assert.equal(problem('type', { type: 'integer' }), 'ajv');
});

test('a name near one the schema declares is said beside the refusal; a name near none is not', () => {
  const receiver = { type: 'object', properties: { url: {}, eventTypes: {}, maxInFlight: {} } };
  const unknown = (name: string) =>
    schemaRefusal({ keyword: 'additionalProperties', instancePath: '', params: { additionalProperty: name }, parentSchema: receiver }, '').problem;
  assert.equal(unknown('eventType'), 'is not a known field (did you mean eventTypes?)');
  assert.equal(unknown('maxInflight'), 'is not a known field (did you mean maxInFlight?)');
  assert.equal(unknown('colour'), 'is not a known field');
  const message = { type: 'object', properties: { eventType: {}, payload: {} } };
  assert.deepEqual(
    schemaRefusal(
      {
        keyword: 'required',
        instancePath: '/messages/1',
        params: { missingProperty: 'payload' },
        parentSchema: message,
        data: { eventType: 'a', paylaod: {} },
      },
      '',
    ),
    { field: 'messages[1].payload', problem: 'is required, and messages[1].paylaod is not a known field' },
  );
  assert.equal(
    schemaRefusal({ keyword: 'required', instancePath: '', params: { missingProperty: 'payload' }, parentSchema: message, data: { eventType: 'a' } }, '')
      .problem,
    'is required',
  );
});
