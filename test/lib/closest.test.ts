import assert from 'node:assert/strict';
import { test } from 'node:test';
import { closest } from '../../src/lib/closest.js';

test('the nearest candidate within a slip of the keyboard, ignoring case; none when all are far', () => {
  assert.equal(closest('eventType', ['url', 'eventTypes', 'description']), 'eventTypes');
  assert.equal(closest('maxInflight', ['maxInFlight', 'timeoutMs']), 'maxInFlight');
  assert.equal(closest('LOCKSTEP_RETRY_SCHEDUL', ['LOCKSTEP_RETRY_SCHEDULE', 'LOCKSTEP_STRICT_RETRY_SCHEDULE']), 'LOCKSTEP_RETRY_SCHEDULE');
  assert.equal(closest('colour', ['url', 'eventTypes']), undefined);
  assert.equal(closest('/v1/reciever', ['/v1/receivers', '/v1/tenants']), '/v1/receivers');
});

test('a word far longer or shorter than every candidate is near none', () => {
  assert.equal(closest(`/v1/${'a'.repeat(100_000)}`, ['/v1/receivers', '/v1/messages']), undefined);
  assert.equal(closest('x', ['LOCKSTEP_PORT']), undefined);
});
