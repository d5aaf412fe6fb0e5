import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { LockstepProcess } from './support/lockstep.js';
import { RedisServer } from './support/redis.js';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

/** Item 2 of issue 12: Redis settings checked at start, and the embedded Redis's fsync. */
let redis: RedisServer;

before(async () => {
  redis = await RedisServer.start();
});
after(async () => {
  await redis?.destroy();
});

test('a Redis that may evict keys is refused at start, saying why and how to fix it; exit 2', async () => {
  const admin = redis.client();
  await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
  admin.disconnect();
  for (const role of ['api', 'emitter'] as const) {
    const refused = LockstepProcess.start(role, { LOCKSTEP_REDIS_URL: redis.url });
    await assert.rejects(
      refused,
      (error: Error) => {
        assert.match(error.message, /configuration problem: Redis at redis:\/\/127\.0\.0\.1:\d+\/? has maxmemory-policy "allkeys-lru"/);
        assert.match(error.message, /silently delete keys/);
        assert.match(error.message, /CONFIG SET maxmemory-policy noeviction/);
        assert.match(error.message, /LOCKSTEP_ALLOW_EVICTING_REDIS=true/);
        assert.doesNotMatch(error.message, /\n\s+at /, 'no stack trace');
        return true;
      },
      role,
    );
  }
  const cli = spawnSync(process.execPath, [CLI, 'api'], {
    env: { PATH: process.env.PATH ?? '', LOCKSTEP_API_TOKEN: 'test-token-0123456789', LOCKSTEP_PORT: '0', LOCKSTEP_REDIS_URL: redis.url },
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.equal(cli.status, 2, cli.stderr);
  assert.match(cli.stderr, /^lockstep: configuration problem: Redis at /m); // BullMQ prints its own one-line warning first
});

test('LOCKSTEP_ALLOW_EVICTING_REDIS=true starts anyway, with a warning in the log and the banner', async () => {
  const proc = await LockstepProcess.start('api', { LOCKSTEP_REDIS_URL: redis.url, LOCKSTEP_ALLOW_EVICTING_REDIS: 'true' });
  try {
    const warning = proc.json().find((line) => line.code === 'LOCKSTEP_EVICTING_REDIS');
    assert.equal(warning?.level, 40, 'logged at warn');
    assert.match(String(warning?.msg), /DANGER: .*allkeys-lru.*may be lost/);
    assert.ok(
      proc.logs.some((line) => /⚠ Redis maxmemory-policy is allkeys-lru: it may EVICT/.test(line)),
      'banner warns',
    );
    assert.equal((await fetch(`${proc.url}/healthz`)).status, 200);
  } finally {
    assert.equal(await proc.stop(), 0);
  }
});

test('a Redis user that may run neither INFO nor CONFIG is a configuration problem naming the fix, password hidden', async () => {
  const admin = redis.client();
  await admin.call('ACL', 'SETUSER', 'lockstep-noinfo', 'on', '>s3cret-pw', '~*', '&*', '+@all', '-info', '-config');
  admin.disconnect();
  const url = redis.url.replace('redis://', 'redis://lockstep-noinfo:s3cret-pw@');
  await assert.rejects(LockstepProcess.start('api', { LOCKSTEP_REDIS_URL: url }), (error: Error) => {
    assert.match(error.message, /configuration problem: cannot read the maxmemory-policy of Redis at redis:\/\/lockstep-noinfo:\*\*\*@/);
    assert.match(error.message, /\+info/);
    assert.ok(!error.message.includes('s3cret-pw'), 'the password is not shown');
    return true;
  });
});

test("LOCKSTEP_REDIS_FSYNC sets the embedded Redis's appendfsync (default everysec)", async () => {
  for (const [fsync, expected] of [
    [undefined, 'everysec'],
    ['always', 'always'],
  ] as const) {
    const dataDir = mkdtempSync(join(tmpdir(), 'lockstep-fsync-'));
    const proc = await LockstepProcess.start('all', { LOCKSTEP_DATA_DIR: dataDir, ...(fsync ? { LOCKSTEP_REDIS_FSYNC: fsync } : {}) });
    try {
      const started = proc.json().find((line) => line.msg === 'started embedded redis-server (AOF on)');
      const client = new Redis(String(started?.url));
      const [, appendfsync] = (await client.config('GET', 'appendfsync')) as string[];
      const [, policy] = (await client.config('GET', 'maxmemory-policy')) as string[];
      client.disconnect();
      assert.equal(appendfsync, expected);
      assert.equal(policy, 'noeviction');
    } finally {
      assert.equal(await proc.stop(), 0);
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
});
