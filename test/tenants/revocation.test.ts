import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { PortalLink } from '../../src/shapes/tenants.js';
import { ApiClient, LockstepProcess, waitFor } from '../support/lockstep.js';
import { RedisServer } from '../support/redis.js';
import { createToken } from '../support/tenants.js';

/**
 * Two real API processes on one Redis: a token revoked through one is refused by the other within a
 * second (each keeps its own ≤ 500 ms copy), an expired one by both; and no line either process logs,
 * at trace level, holds a token or a portal link's token.
 */
let redis: RedisServer;
let procs: LockstepProcess[] = [];

before(async () => {
  redis = await RedisServer.start();
  const env = { LOCKSTEP_REDIS_URL: redis.url, LOCKSTEP_LOG_LEVEL: 'trace' };
  procs = [await LockstepProcess.start('api', env), await LockstepProcess.start('api', env)];
});
after(async () => {
  for (const proc of procs) await proc.stop();
  await redis?.destroy();
});

test('a revoked token is refused by every API process within a second; an expired one too; no token in any log', async () => {
  const [one, two] = procs.map((proc) => new ApiClient(proc.url as string)) as [ApiClient, ApiClient];
  const tokens: string[] = [];
  const secrets = new Set<string>();
  assert.equal((await one.request('POST', '/v1/tenants', { id: 'revoke-co' })).status, 201);
  const portal = await one.request<PortalLink>('POST', '/v1/tenants/revoke-co/portal', { expiresInS: 60 });
  secrets.add(new URLSearchParams(new URL(portal.body.url).hash.slice(1)).get('token') ?? 'missing');

  for (let round = 0; round < 5; round++) {
    const made = await createToken(one, ['publish']);
    tokens.push(made.token);
    const onTwo = new ApiClient(two.url, made.token);
    // used on the other process (so it has the token in its copy), then revoked through the first
    assert.equal((await onTwo.request('POST', '/v1/messages', { eventType: 'r.x', payload: {} })).status, 202);
    assert.equal((await one.request('DELETE', `/v1/tokens/${made.id}`)).status, 204);
    const revokedAt = Date.now();
    await waitFor('the other process to refuse the revoked token', async () => (await onTwo.request('GET', '/v1/messages')).status === 401, 2000, 20);
    const seenAfter = Date.now() - revokedAt;
    assert.ok(seenAfter <= 1000, `refused ${seenAfter} ms after the revocation`);
    assert.equal((await new ApiClient(one.url, made.token).request('POST', '/v1/messages', { eventType: 'r.x', payload: {} })).status, 401);
  }

  const expiring = await createToken(one, ['publish'], { expiresAt: new Date(Date.now() + 1200).toISOString() });
  tokens.push(expiring.token);
  for (const client of [one, two])
    assert.equal((await new ApiClient(client.url, expiring.token).request('POST', '/v1/messages', { eventType: 'r.x', payload: {} })).status, 202);
  await new Promise((resolve) => setTimeout(resolve, 1300));
  for (const client of [one, two])
    assert.equal((await new ApiClient(client.url, expiring.token).request('POST', '/v1/messages', { eventType: 'r.x', payload: {} })).status, 401);

  for (const proc of procs) await proc.stop();
  const lines = procs.flatMap((proc) => proc.logs);
  assert.ok(lines.some((line) => /API token created/.test(line)) && lines.some((line) => /API token revoked/.test(line)), 'token changes are logged (by id)');
  const leaks = lines.filter((line) => [...tokens, ...secrets].some((token) => line.includes(token) || line.includes(token.slice(4, 20))));
  assert.deepEqual(leaks, [], 'log lines holding a token');
});
