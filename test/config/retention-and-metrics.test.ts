import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/index.js';

/** Issue 12's settings: LOCKSTEP_RETENTION_MS, LOCKSTEP_METRICS_TOKEN, LOCKSTEP_METRICS_PUBLIC. */
test('defaults: 30 days of retention, /metrics behind a token', () => {
  const config = loadConfig({});
  assert.equal(config.retentionMs, 30 * 86_400_000);
  assert.deepEqual(config.metricsTokens, []);
  assert.equal(config.metricsPublic, false);
});

test('good values are taken', () => {
  const config = loadConfig({ LOCKSTEP_RETENTION_MS: '30000', LOCKSTEP_METRICS_TOKEN: 'prom-1, prom-2', LOCKSTEP_METRICS_PUBLIC: 'true' });
  assert.equal(config.retentionMs, 30_000);
  assert.deepEqual(config.metricsTokens, ['prom-1', 'prom-2']);
  assert.equal(config.metricsPublic, true);
});

test('bad values are a ConfigError naming the variable', () => {
  for (const [name, value] of [
    ['LOCKSTEP_RETENTION_MS', 'forever'],
    ['LOCKSTEP_RETENTION_MS', '10'],
    ['LOCKSTEP_RETENTION_MS', '1500.5'],
    ['LOCKSTEP_METRICS_TOKEN', 'has space'],
    ['LOCKSTEP_METRICS_PUBLIC', 'sometimes'],
  ] as const) {
    assert.throws(
      () => loadConfig({ [name]: value }),
      (error: Error) => error instanceof ConfigError && error.message.includes(name),
      `${name}=${value}`,
    );
  }
});
