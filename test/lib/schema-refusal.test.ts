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
