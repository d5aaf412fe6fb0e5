import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig } from '../../src/config/index.js';
import { RedisServer } from '../support/redis.js';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

/** One bad value for every setting the environment can give; each must be refused by name. */
const BAD: [name: string, value: string][] = [
  ['LOCKSTEP_HOST', ''],
  ['LOCKSTEP_HOST', 'exa mple'],
  ['LOCKSTEP_PORT', '70000'],
  ['LOCKSTEP_REDIS_URL', 'localhost:6379'],
  ['LOCKSTEP_REDIS_URL', 'http://127.0.0.1:6379'],
  ['LOCKSTEP_REDIS_PREFIX', ''],
  ['LOCKSTEP_REDIS_PREFIX', 'has space'],
  ['LOCKSTEP_LOCK_BACKEND', 'zookeeper'],
  ['LOCKSTEP_ETCD_HOSTS', 'not a url'],
  ['LOCKSTEP_ETCD_HOSTS', ''],
  ['LOCKSTEP_CONSUL_ADDR', 'consul:8500'],
  ['LOCKSTEP_LOCK_TTL_MS', '12abc'],
  ['LOCKSTEP_EMITTER_ID', ''],
  ['LOCKSTEP_EMITTER_ID', 'a\nb'],
  ['LOCKSTEP_EMITTER_CONCURRENCY', '0'],
  ['LOCKSTEP_RETRY_SCHEDULE', '-1'],
  ['LOCKSTEP_THROTTLED_MIN_MS', 'soon'],
  ['LOCKSTEP_RETRY_AFTER_MAX_MS', '5'],
  ['LOCKSTEP_DISABLE_AFTER_DEAD_MS', '-5'],
  ['LOCKSTEP_ALLOW_PRIVATE_NETWORKS', 'yes please'],
  ['LOCKSTEP_ALLOW_CIDRS', '10.0.0.0/33'],
  ['LOCKSTEP_ALLOW_CIDRS', 'banana'],
  ['LOCKSTEP_ALLOW_CIDRS', '10.0.0.1/8/9'],
  ['LOCKSTEP_ALLOW_CIDRS', 'fd00::/129'],
  ['LOCKSTEP_LOG_LEVEL', 'loud'],
  ['LOCKSTEP_DATA_DIR', ''],
  ['LOCKSTEP_BODY_LIMIT_BYTES', '10'],
  ['LOCKSTEP_DEFAULT_TIMEOUT_MS', '1.5'],
  ['LOCKSTEP_MAX_MESSAGES_PER_TURN', '0'],
  ['LOCKSTEP_MAX_TURN_MS', 'x'],
  ['LOCKSTEP_METRICS_PORT', '-1'],
  ['LOCKSTEP_METRICS_RECEIVER_LABELS', 'perhaps'],
  ['LOCKSTEP_RECONCILE_EVERY_MS', '1'],
  ['LOCKSTEP_API_TOKEN', 'has space in it 0123456789'],
  ['LOCKSTEP_ALLOW_EVICTING_REDIS', 'sure'],
  ['LOCKSTEP_REDIS_FSYNC', 'no'],
  ['LOCKSTEP_REDIS_FSYNC', 'sometimes'],
];

test('every bad setting is a ConfigError naming its variable', () => {
  for (const [name, value] of BAD) {
    assert.throws(
      () => loadConfig({ [name]: value }),
      (error: Error) => error instanceof ConfigError && error.message.includes(name),
      `${name}=${JSON.stringify(value)}`,
    );
  }
});

test('good values of the new and newly checked settings are taken', () => {
  const config = loadConfig({
    LOCKSTEP_ALLOW_CIDRS: '10.1.0.0/16, fd00::/8,192.168.1.7',
    LOCKSTEP_REDIS_FSYNC: 'always',
    LOCKSTEP_ALLOW_EVICTING_REDIS: 'true',
    LOCKSTEP_REDIS_URL: 'rediss://:pw@redis.example.com:6380/2',
    LOCKSTEP_LOG_LEVEL: 'debug',
  });
  assert.deepEqual(config.allowCidrs, ['10.1.0.0/16', 'fd00::/8', '192.168.1.7']);
  assert.equal(config.redisFsync, 'always');
  assert.equal(config.allowEvictingRedis, true);
  const defaults = loadConfig({});
  assert.equal(defaults.redisFsync, 'everysec');
  assert.equal(defaults.allowEvictingRedis, false);
});

test('the CLI answers every bad setting with "configuration problem", no stack, exit 2', () => {
  // a few representative ones through the real CLI (each is a process start, so not all of them)
  for (const [name, value] of [
    ['LOCKSTEP_ALLOW_CIDRS', '10.0.0.0/33'],
    ['LOCKSTEP_REDIS_FSYNC', 'no'],
    ['LOCKSTEP_LOG_LEVEL', 'loud'],
    ['LOCKSTEP_REDIS_URL', 'localhost:6379'],
  ] as const) {
    const result = spawnSync(process.execPath, [CLI, 'api'], {
      env: { PATH: process.env.PATH ?? '', LOCKSTEP_API_TOKEN: 'test-token-0123456789', LOCKSTEP_REDIS_URL: 'redis://127.0.0.1:1', [name]: value },
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(result.status, 2, `${name}: ${result.stderr}`);
    assert.match(result.stderr, new RegExp(`^lockstep: configuration problem: .*${name}`), name);
    assert.doesNotMatch(result.stderr, /\n\s+at /, `${name}: no stack trace`);
  }
});

test('settings that only fail when used (listen address, port, data directory) are configuration problems too, exit 2', async () => {
  const redis = await RedisServer.start();
  const aFile = join(mkdtempSync(join(tmpdir(), 'lockstep-notdir-')), 'file');
  writeFileSync(aFile, '');
  try {
    const cases: [role: string, env: Record<string, string>, expected: RegExp][] = [
      ['api', { LOCKSTEP_HOST: 'no-such-host.invalid' }, /LOCKSTEP_HOST=no-such-host\.invalid is not an address of this machine/],
      ['api', { LOCKSTEP_HOST: '192.0.2.1' }, /LOCKSTEP_HOST=192\.0\.2\.1 is not an address of this machine/],
      ['all', { LOCKSTEP_DATA_DIR: join(aFile, 'data'), LOCKSTEP_API_TOKEN: '' }, /LOCKSTEP_DATA_DIR=\S+\/file\/data cannot be created \(ENOTDIR\)/],
    ];
    for (const [role, env, expected] of cases) {
      const result = spawnSync(process.execPath, [CLI, role], {
        env: { PATH: process.env.PATH ?? '', LOCKSTEP_API_TOKEN: 'test-token-0123456789', LOCKSTEP_REDIS_URL: redis.url, LOCKSTEP_PORT: '0', ...env },
        encoding: 'utf8',
        timeout: 30_000,
      });
      assert.equal(result.status, 2, `${JSON.stringify(env)}: ${result.stderr}`);
      assert.match(result.stderr, /^lockstep: configuration problem: /m);
      assert.match(result.stderr, expected);
      assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
    }
  } finally {
    rmSync(dirname(aFile), { recursive: true, force: true });
    await redis.destroy();
  }
});
