import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig } from '../../src/config/index.js';
import { SETTING_NAMES } from '../../src/config/settings.js';
import { LockstepProcess, waitFor } from '../support/lockstep.js';
import { RedisServer } from '../support/redis.js';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const README = fileURLToPath(new URL('../../README.md', import.meta.url));

test('a LOCKSTEP_* variable that is no setting is pointed out, with the setting it is nearest to', () => {
  const config = loadConfig({ LOCKSTEP_RETRY_SCHEDUL: '1,2', LOCKSTEP_RETRIES: '3', LOCKSTEP_PORT: '8081', LOCKSTEP_TEST_LOCK_BACKENDS: 'redis', OTHER: 'x' });
  assert.deepEqual(config.unknownVariables, [
    'LOCKSTEP_RETRIES is not a Lockstep setting and is ignored',
    'LOCKSTEP_RETRY_SCHEDUL is not a Lockstep setting and is ignored (did you mean LOCKSTEP_RETRY_SCHEDULE?)',
  ]);
  assert.equal(config.port, 8081);
  assert.deepEqual(loadConfig({ LOCKSTEP_LOCK_BACKEND: 'etcd', LOCKSTEP_API_TOKEN: 'abc' }).unknownVariables, []);
});

test('a config file key that is no setting stops the start, naming the file, the key and what was meant', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lockstep-config-'));
  const refusal = (file: string): string => {
    writeFileSync(join(dir, 'default.json'), file);
    try {
      loadConfig({ LOCKSTEP_CONFIG_DIR: dir });
    } catch (error) {
      assert.ok(error instanceof ConfigError);
      return error.message;
    }
    return 'accepted';
  };
  try {
    assert.equal(
      refusal('{"port": 8080, "retrySchedul": [1, 2]}'),
      `${join(dir, 'default.json')}: "retrySchedul" is not a setting a config file can hold (did you mean "retrySchedule"?); see README.md, "Configuration"`,
    );
    assert.match(refusal('{"LOCKSTEP_PORT": 8080}'), /"LOCKSTEP_PORT" is not a setting a config file can hold \(in a file it is "port"\)/);
    assert.match(refusal('{"apiToken": "abc"}'), /"apiToken" .* \(LOCKSTEP_API_TOKEN is read from the environment only\)/);
    assert.match(refusal('[8080]'), /default\.json must hold one JSON object of settings/);
    writeFileSync(join(dir, 'staging.json'), '{"redisprefix": "x"}');
    writeFileSync(join(dir, 'default.json'), '{}');
    assert.throws(() => loadConfig({ LOCKSTEP_CONFIG_DIR: dir, NODE_ENV: 'staging' }), /staging\.json: "redisprefix" .*did you mean "redisPrefix"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a config folder of one's own need only hold what it changes: the package's defaults are read first", () => {
  const dir = mkdtempSync(join(tmpdir(), 'lockstep-config-'));
  try {
    writeFileSync(join(dir, 'production.json'), '{"port": 9090}');
    const config = loadConfig({ LOCKSTEP_CONFIG_DIR: dir, NODE_ENV: 'production' });
    assert.equal(config.port, 9090);
    assert.equal(config.redisPrefix, 'lockstep');
    assert.equal(config.lockTtlMs, 10_000);
    writeFileSync(join(dir, 'default.json'), '{"lockTtlMs": 6000, "port": 9000}');
    assert.deepEqual(
      [loadConfig({ LOCKSTEP_CONFIG_DIR: dir, NODE_ENV: 'production' })].map((c) => [c.port, c.lockTtlMs, c.host]),
      [[9090, 6000, '127.0.0.1']],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a started process shows an unknown variable in its banner and warns of it in its log', async () => {
  const redis = await RedisServer.start();
  const api = await LockstepProcess.start('api', { LOCKSTEP_REDIS_URL: redis.url, LOCKSTEP_MAX_TURN_MSS: '500' });
  try {
    const warning = 'LOCKSTEP_MAX_TURN_MSS is not a Lockstep setting and is ignored (did you mean LOCKSTEP_MAX_TURN_MS?)';
    assert.ok(api.logs.includes(`  ⚠ ${warning}`), api.logs.join('\n'));
    await waitFor('the warning in the log', () => api.json().some((line) => line.level === 40 && line.msg === warning), 5000);
  } finally {
    await api.stop();
    await redis.destroy();
  }
});

test('the CLI refuses an unknown file key with exit 2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lockstep-config-'));
  try {
    writeFileSync(join(dir, 'default.json'), '{"logLevl": "debug"}');
    const result = spawnSync(process.execPath, [CLI, 'api'], {
      env: { PATH: process.env.PATH ?? '', LOCKSTEP_CONFIG_DIR: dir, LOCKSTEP_API_TOKEN: 'test-token-0123456789', LOCKSTEP_REDIS_URL: 'redis://127.0.0.1:1' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(result.status, 2, result.stderr);
    assert.match(result.stderr, /^lockstep: configuration problem: \S+default\.json: "logLevl" .*did you mean "logLevel"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the README's table of settings names every setting Lockstep reads, and no other", () => {
  const section = /## Configuration\n([\s\S]*?)\n### /.exec(readFileSync(README, 'utf8'))?.[1] ?? '';
  const rows = section.split('\n').filter((line) => line.startsWith('| `'));
  const documented = new Set(rows.flatMap((row) => row.split(' | ')[0]?.match(/LOCKSTEP_[A-Z0-9_]+/g) ?? []));
  assert.deepEqual([...documented].sort(), [...SETTING_NAMES].sort());
});

test('`lockstep config` shows every setting, its value as given and where from, secrets hidden; a bad one exits 2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lockstep-config-'));
  try {
    const defaults = JSON.parse(readFileSync(new URL('../../config/default.json', import.meta.url), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(dir, 'default.json'), JSON.stringify({ ...defaults, lockTtlMs: 5000 }));
    writeFileSync(join(dir, 'staging.json'), '{"lockTtlMs": 7000}');
    const run = (env: Record<string, string>) =>
      spawnSync(process.execPath, [CLI, 'config'], {
        env: { PATH: process.env.PATH ?? '', LOCKSTEP_CONFIG_DIR: dir, NODE_ENV: 'staging', ...env },
        encoding: 'utf8',
        timeout: 20_000,
      });
    const shown = run({
      LOCKSTEP_PORT: '9000',
      LOCKSTEP_API_TOKEN: 'tok-one-0123456789,tok-two-0123456789',
      LOCKSTEP_REDIS_URL: 'redis://:pw-secret@10.0.0.1:6379',
      LOCKSTEP_PROT: '1',
    });
    assert.equal(shown.status, 0, shown.stderr);
    const line = (name: string) => shown.stdout.split('\n').find((text) => text.trim().startsWith(`${name} `)) ?? '';
    assert.match(line('LOCKSTEP_PORT'), /9000\s+environment$/);
    assert.match(line('LOCKSTEP_LOCK_TTL_MS'), new RegExp(`7000\\s+${join(dir, 'staging.json').replaceAll('.', '\\.')}$`), 'the file read last wins');
    assert.match(line('LOCKSTEP_REDIS_URL'), /redis:\/\/:\*\*\*@10\.0\.0\.1:6379\s+environment$/);
    assert.match(line('LOCKSTEP_API_TOKEN'), /\(2 token\(s\), hidden\)/);
    assert.match(line('LOCKSTEP_RETENTION_MS'), /2592000000\s+not set: the default$/, 'one set nowhere shows the value it runs with');
    assert.match(line('LOCKSTEP_REDIS_SENTINELS'), /^\s*LOCKSTEP_REDIS_SENTINELS\s+not set$/);
    assert.match(line('LOCKSTEP_EMITTER_ID'), /not set: <hostname>-<pid>$/, 'what an unset one without a value of its own means');
    assert.ok(!shown.stdout.includes('tok-one') && !shown.stdout.includes('pw-secret'), 'no secret shown');
    assert.match(shown.stdout, /⚠ LOCKSTEP_PROT is not a Lockstep setting and is ignored \(did you mean LOCKSTEP_PORT\?\)/);
    const refused = run({ LOCKSTEP_PORT: 'x' });
    assert.equal(refused.status, 2);
    assert.match(refused.stderr, /^lockstep: configuration problem: LOCKSTEP_PORT/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
