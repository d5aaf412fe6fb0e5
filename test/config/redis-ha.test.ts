import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig, redisTarget } from '../../src/config/index.js';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

const BAD: Record<string, string>[] = [
  { LOCKSTEP_REDIS_SENTINELS: 'localhost' },
  { LOCKSTEP_REDIS_SENTINELS: '10.0.0.1:26379,10.0.0.2' },
  { LOCKSTEP_REDIS_SENTINELS: 'host:0' },
  { LOCKSTEP_REDIS_SENTINELS: 'host:70000' },
  { LOCKSTEP_REDIS_SENTINELS: 'redis://host:26379' },
  { LOCKSTEP_REDIS_SENTINELS: '[zz]:26379' },
  { LOCKSTEP_REDIS_SENTINELS: '' },
  { LOCKSTEP_REDIS_SENTINELS: 'h:26379', LOCKSTEP_REDIS_SENTINEL_NAME: 'my master' },
  { LOCKSTEP_REDIS_CLUSTER: '127.0.0.1' },
  { LOCKSTEP_REDIS_CLUSTER: 'redis://127.0.0.1:7000' },
  { LOCKSTEP_REDIS_CLUSTER: 'h:1', LOCKSTEP_REDIS_CLUSTER_NAT: '10.0.0.1:6379' },
  { LOCKSTEP_REDIS_CLUSTER: 'h:1', LOCKSTEP_REDIS_CLUSTER_NAT: '10.0.0.1:6379=proxy' },
  { LOCKSTEP_REDIS_CLUSTER: 'h:1', LOCKSTEP_REDIS_CLUSTER_NAT: '10.0.0.1:6379=h:1=h:2' },
  { LOCKSTEP_REDIS_CLUSTER_NAT: '10.0.0.1:6379=h:1' },
  { LOCKSTEP_REDIS_MIN_REPLICAS: '-1' },
  { LOCKSTEP_REDIS_MIN_REPLICAS: 'one' },
  { LOCKSTEP_REDIS_PASSWORD: 'pass\nword' },
  { LOCKSTEP_REDIS_SHARD_GROUPS: '0' },
  { LOCKSTEP_REDIS_SHARD_GROUPS: 'four' },
];

test('bad Sentinel settings are ConfigErrors naming the variable', () => {
  for (const env of BAD) {
    const name = Object.keys(env).at(-1) as string;
    assert.throws(
      () => loadConfig(env),
      (error: Error) => error instanceof ConfigError && error.message.includes(name) && !error.message.includes('pass\nword'),
      JSON.stringify(env),
    );
  }
  assert.throws(
    () => loadConfig({ LOCKSTEP_REDIS_URL: 'redis://127.0.0.1:6379', LOCKSTEP_REDIS_SENTINELS: '127.0.0.1:26379' }),
    /set one of LOCKSTEP_REDIS_URL, LOCKSTEP_REDIS_SENTINELS and LOCKSTEP_REDIS_CLUSTER, not LOCKSTEP_REDIS_URL and LOCKSTEP_REDIS_SENTINELS/,
  );
  assert.throws(
    () => loadConfig({ LOCKSTEP_REDIS_SENTINELS: '127.0.0.1:26379', LOCKSTEP_REDIS_CLUSTER: '127.0.0.1:7000' }),
    /not LOCKSTEP_REDIS_SENTINELS and LOCKSTEP_REDIS_CLUSTER/,
  );
});

test('Sentinel settings: parsed, min replicas 1 by default with sentinels and 0 without', () => {
  const config = loadConfig({
    LOCKSTEP_REDIS_SENTINELS: ' 10.0.0.1:26379, sentinel-2.internal:26380,[::1]:26381',
    LOCKSTEP_REDIS_PASSWORD: 'data-pw',
    LOCKSTEP_REDIS_SENTINEL_PASSWORD: 'sentinel-pw',
  });
  assert.deepEqual(config.redisSentinels, [
    { host: '10.0.0.1', port: 26379 },
    { host: 'sentinel-2.internal', port: 26380 },
    { host: '::1', port: 26381 },
  ]);
  assert.equal(config.redisMinReplicas, 1);
  assert.deepEqual(redisTarget(config), {
    sentinels: config.redisSentinels,
    name: 'mymaster',
    password: 'data-pw',
    sentinelPassword: 'sentinel-pw',
  });
  assert.equal(loadConfig({ LOCKSTEP_REDIS_SENTINELS: 'h:1', LOCKSTEP_REDIS_MIN_REPLICAS: '0' }).redisMinReplicas, 0);
  assert.equal(loadConfig({ LOCKSTEP_REDIS_SENTINELS: 'h:1', LOCKSTEP_REDIS_SENTINEL_NAME: 'queue' }).redisSentinelName, 'queue');
  const plain = loadConfig({ LOCKSTEP_REDIS_URL: 'redis://127.0.0.1:6379' });
  assert.equal(plain.redisMinReplicas, 0);
  assert.equal(redisTarget(plain), 'redis://127.0.0.1:6379');
  assert.equal(redisTarget(loadConfig({ LOCKSTEP_REDIS_URL: 'redis://127.0.0.1:6379', LOCKSTEP_REDIS_PASSWORD: 'p@ss' })), 'redis://:p%40ss@127.0.0.1:6379');
  assert.equal(redisTarget(loadConfig({})), undefined);
});

test('Cluster settings: the nodes, min replicas 0 by default, and a prefix without a hash tag gets one (every key in one slot)', () => {
  const config = loadConfig({ LOCKSTEP_REDIS_CLUSTER: '127.0.0.1:7000,127.0.0.1:7001', LOCKSTEP_REDIS_PASSWORD: 'pw' });
  assert.deepEqual(redisTarget(config), {
    cluster: [
      { host: '127.0.0.1', port: 7000 },
      { host: '127.0.0.1', port: 7001 },
    ],
    password: 'pw',
  });
  assert.equal(config.redisMinReplicas, 0);
  assert.equal(config.redisPrefix, '{lockstep}');
  const behindNat = loadConfig({ LOCKSTEP_REDIS_CLUSTER: 'h:7000', LOCKSTEP_REDIS_CLUSTER_NAT: '10.0.1.5:6379=h:7000, 10.0.1.6:6379=[::1]:7001' });
  assert.deepEqual(redisTarget(behindNat), {
    cluster: [{ host: 'h', port: 7000 }],
    natMap: { '10.0.1.5:6379': { host: 'h', port: 7000 }, '10.0.1.6:6379': { host: '::1', port: 7001 } },
  });
  assert.equal(loadConfig({ LOCKSTEP_REDIS_CLUSTER: 'h:1', LOCKSTEP_REDIS_PREFIX: 'acme:{wh}' }).redisPrefix, 'acme:{wh}');
  assert.equal(loadConfig({ LOCKSTEP_REDIS_PREFIX: 'acme' }).redisPrefix, 'acme', 'not on a single Redis');
});

test('the CLI refuses a bad sentinel address as a configuration problem, exit 2, without a stack', () => {
  const result = spawnSync(process.execPath, [CLI, 'api'], {
    env: { PATH: process.env.PATH ?? '', LOCKSTEP_API_TOKEN: 'test-token-0123456789', LOCKSTEP_REDIS_SENTINELS: '127.0.0.1:26379,sentinel-two' },
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.equal(result.status, 2, result.stderr);
  assert.match(result.stderr, /^lockstep: configuration problem: LOCKSTEP_REDIS_SENTINELS: "sentinel-two" is not a host:port/);
  assert.doesNotMatch(result.stderr, /\n\s+at /);
});
