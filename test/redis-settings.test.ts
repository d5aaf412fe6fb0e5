import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { LockstepProcess } from './support/lockstep.js';
import { RedisServer } from './support/redis.js';

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
    await assert.rejects(refused, (error: Error) => {
      assert.match(error.message, /configuration problem: Redis at redis:\/\/127\.0\.0\.1:\d+\/? has maxmemory-policy "allkeys-lru"/);
      assert.match(error.message, /silently delete keys/);
      assert.match(error.message, /CONFIG SET maxmemory-policy noeviction/);
      assert.match(error.message, /LOCKSTEP_ALLOW_EVICTING_REDIS=true/);
      assert.doesNotMatch(error.message, /\n\s+at /, 'no stack trace');
      return true;
    }, role);
  }
});

test('LOCKSTEP_ALLOW_EVICTING_REDIS=true starts anyway, with a warning in the log and the banner', async () => {
  const proc = await LockstepProcess.start('api', { LOCKSTEP_REDIS_URL: redis.url, LOCKSTEP_ALLOW_EVICTING_REDIS: 'true' });
  try {
    const warning = proc.json().find((line) => line.code === 'LOCKSTEP_EVICTING_REDIS');
    assert.equal(warning?.level, 40, 'logged at warn');
    assert.match(String(warning?.msg), /DANGER: .*allkeys-lru.*may be lost/);
    assert.ok(proc.logs.some((line) => /⚠ Redis maxmemory-policy is allkeys-lru: it may EVICT/.test(line)), 'banner warns');
    assert.equal((await fetch(`${proc.url}/healthz`)).status, 200);
  } finally {
    assert.equal(await proc.stop(), 0);
  }
});

test('LOCKSTEP_REDIS_FSYNC sets the embedded Redis\'s appendfsync (default everysec)', async () => {
  for (const [fsync, expected] of [[undefined, 'everysec'], ['always', 'always']] as const) {
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
