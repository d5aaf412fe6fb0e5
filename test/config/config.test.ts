import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/index.js';

test('defaults come from config/default.json', () => {
  const config = loadConfig({});
  assert.equal(config.port, 8080);
  assert.equal(config.host, '127.0.0.1');
  assert.equal(config.lockBackend, 'redis');
  assert.equal(config.lockTtlMs, 10_000);
  assert.equal(config.emitterConcurrency, 64);
  assert.deepEqual(config.retrySchedule, [5000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000]);
  assert.equal(config.allowPrivateNetworks, undefined);
  assert.equal(config.redisPrefix, 'lockstep');
});

test('the environment overrides files; NODE_ENV picks config/<env>.json', () => {
  const config = loadConfig({
    NODE_ENV: 'production',
    LOCKSTEP_PORT: '9000',
    LOCKSTEP_API_TOKEN: 'a, b',
    LOCKSTEP_RETRY_SCHEDULE: '0.5,2',
    LOCKSTEP_ETCD_HOSTS: 'http://e1:2379,http://e2:2379',
    LOCKSTEP_ALLOW_PRIVATE_NETWORKS: 'false',
    LOCKSTEP_EMITTER_ID: 'e-1',
  });
  assert.equal(config.host, '0.0.0.0');
  assert.equal(config.port, 9000);
  assert.deepEqual(config.apiTokens, ['a', 'b']);
  assert.deepEqual(config.retrySchedule, [500, 2000]);
  assert.deepEqual(config.etcdHosts, ['http://e1:2379', 'http://e2:2379']);
  assert.equal(config.allowPrivateNetworks, false);
  assert.equal(config.emitterId, 'e-1');
});

test('bad values are refused with the variable named', () => {
  for (const [name, value] of [
    ['LOCKSTEP_PORT', 'eighty'],
    ['LOCKSTEP_LOCK_BACKEND', 'zookeeper'],
    ['LOCKSTEP_RETRY_SCHEDULE', '5,,x'],
    ['LOCKSTEP_LOCK_TTL_MS', '10'],
    ['LOCKSTEP_ALLOW_PRIVATE_NETWORKS', 'maybe'],
  ] as const) {
    assert.throws(
      () => loadConfig({ [name]: value }),
      (error: Error) => error instanceof ConfigError && error.message.includes(name),
      name,
    );
  }
});
