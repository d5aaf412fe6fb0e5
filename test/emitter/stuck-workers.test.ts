import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StuckWorkers } from '../../src/emitter/stuck-workers.js';

test('a worker is stuck when a job waits in its queue at two looks in a row while it had room both times', () => {
  const stuck = new StuckWorkers(3);
  // group 0: waiting with room twice; group 1: waiting but full; group 2: room but nothing waiting
  assert.deepEqual(stuck.look([true, true, false], [true, false, true]), []);
  assert.deepEqual(stuck.look([true, true, false], [true, false, true]), [0]);
  // replaced: it starts from nothing again
  assert.deepEqual(stuck.look([true, true, false], [true, false, true]), []);
  // a look in between without a waiting job (or without room) clears the strike
  const other = new StuckWorkers(1);
  assert.deepEqual(other.look([true], [true]), []);
  assert.deepEqual(other.look([false], [true]), []);
  assert.deepEqual(other.look([true], [true]), []);
  assert.deepEqual(other.look([true], [false]), []);
  assert.deepEqual(other.look([true], [true]), []);
  assert.deepEqual(other.look([true], [true]), [0]);
});
