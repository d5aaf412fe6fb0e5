import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { minimumTtlMs, renewEveryMs, ttlProblem } from '../../src/locks/cadence.js';
import { deadlineMargin } from '../../src/locks/types.js';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

test('each backend states the shortest TTL it can keep alive: its renewal cadence fits the validity window', () => {
  for (const backend of ['redis', 'etcd', 'consul'] as const) {
    const min = minimumTtlMs(backend);
    for (const ttl of [min, min + 1, 1000, 2000, 10_000, 60_000].filter((value) => value >= min)) {
      assert.equal(ttlProblem(backend, ttl), null, `${backend} ${ttl} ms`);
      assert.ok(renewEveryMs(backend, ttl) < ttl - deadlineMargin(ttl), `${backend} ${ttl} ms renews inside its window`);
    }
    assert.match(ttlProblem(backend, min - 1) ?? '', new RegExp(`minimum is ${min} ms`));
  }
  // the case that was reproduced: etcd keep-alives every 333 ms against a 300 ms window
  assert.ok(renewEveryMs('etcd', 500) > 500 - deadlineMargin(500));
  assert.match(ttlProblem('etcd', 500) ?? '', /renews every 333 ms.*trusted for only 300 ms/);
});

test('startup refuses a TTL the backend cannot honour: a clear message naming the minimum, exit 2, nothing started', () => {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('LOCKSTEP_')));
  const result = spawnSync(process.execPath, [CLI, 'emitter'], {
    env: { ...env, LOCKSTEP_LOCK_BACKEND: 'etcd', LOCKSTEP_LOCK_TTL_MS: '500', LOCKSTEP_REDIS_URL: 'redis://127.0.0.1:1' },
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.equal(result.status, 2, result.stderr);
  assert.match(result.stderr, /configuration problem: LOCKSTEP_LOCK_TTL_MS=500 is too short for the etcd lock backend/);
  assert.match(result.stderr, new RegExp(`minimum is ${minimumTtlMs('etcd')} ms`));
});
