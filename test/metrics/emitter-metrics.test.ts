import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from '../../src/logger.js';
import { Metrics, serveMetrics } from '../../src/metrics/index.js';
import { freePort } from '../support/ports.js';

test("an emitter's own /metrics endpoint (LOCKSTEP_METRICS_PORT), with receiver labels only when asked", async () => {
  const labelled = new Metrics(true);
  labelled.attempt('rcv_a', 'delivered', 12, 40);
  const port = await freePort();
  const stop = await serveMetrics(labelled, '127.0.0.1', port, createLogger('silent'));
  try {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    assert.match(text, /^lockstep_delivery_attempts_total\{outcome="delivered",receiver="rcv_a"\} 1$/m);
    assert.match(text, /^lockstep_process_resident_memory_bytes \d+/m);
    assert.equal((await fetch(`http://127.0.0.1:${port}/other`)).status, 404);
  } finally {
    await stop();
  }
  const bounded = new Metrics(false);
  bounded.attempt('rcv_a', 'failed', 3, 40);
  assert.match(await bounded.registry.metrics(), /^lockstep_delivery_attempts_total\{outcome="failed"\} 1$/m);
});
