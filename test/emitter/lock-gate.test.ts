import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LockServiceGate, PROBE_MS } from '../../src/emitter/lock-gate.js';
import { createLogger } from '../../src/logger.js';

/** A gate over workers that only say what was done to them, and a lock service answering as `answers` says. */
function gate(answers: boolean[]): { gate: LockServiceGate; done: string[]; pings: () => number; stop: AbortController } {
  const done: string[] = [];
  let pings = 0;
  const stop = new AbortController();
  const workers = { pause: () => Promise.resolve(void done.push('pause')), resume: () => void done.push('resume') };
  const ping = (): Promise<boolean> => Promise.resolve(answers[pings++] ?? true);
  return { gate: new LockServiceGate(ping, workers, createLogger('silent'), stop.signal), done, pings: () => pings, stop };
}

const until = async (check: () => boolean, ms: number): Promise<void> => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

test('a suspicion the first ping clears (a pause of the process): paused and resumed at once', async () => {
  const g = gate([true]);
  g.gate.suspect('lock lost: deadline');
  assert.equal(g.gate.open, false);
  await until(() => g.gate.open, 100);
  assert.deepEqual(g.done, ['pause', 'resume']);
  assert.equal(g.pings(), 1);
});

test('a lock service that does not answer: paused until it does, pinged every PROBE_MS, one probe however many suspicions', async () => {
  const g = gate([false, false, true]);
  const started = Date.now();
  g.gate.suspect('an acquire failed');
  g.gate.suspect('another acquire failed');
  await until(() => g.gate.open, 5 * PROBE_MS);
  assert.ok(Date.now() - started >= 2 * PROBE_MS - 20, 'two waits between three pings');
  assert.deepEqual(g.done, ['pause', 'resume']);
  assert.equal(g.pings(), 3);
});

test('stopping ends the probing without resuming the workers, and a stopped gate suspects nothing more', async () => {
  const g = gate([false, false, false, false]);
  g.gate.suspect('an acquire failed');
  await until(() => g.pings() === 1, 100);
  g.stop.abort();
  await until(() => g.gate.open, 2 * PROBE_MS);
  assert.deepEqual(g.done, ['pause']);
  g.gate.suspect('after the stop');
  assert.equal(g.gate.open, true);
});
