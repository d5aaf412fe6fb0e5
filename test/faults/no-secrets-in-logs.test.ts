import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { generateKey } from '../../src/delivery/signing-keys.js';
import { ApiClient, LockstepProcess, waitFor } from '../support/lockstep.js';
import { TestReceiver } from '../support/receiver.js';
import { RedisServer } from '../support/redis.js';

/**
 * Issue 12 item 4: a Redis driven out of memory makes every write fail with an ioredis error that
 * carries the command's arguments (receiver config with its secret and headers, message payloads).
 * Real API and emitter processes keep registering, posting and delivering through it; afterwards
 * no line any of them wrote holds the secret, a header value or a payload.
 */
let redis: RedisServer;
let receiver: TestReceiver;
let procs: LockstepProcess[] = [];

const SECRET = `whsec_${randomBytes(24).toString('base64')}`;
/** The key SECRET is rotated to: SECRET keeps signing as the previous key meanwhile (issue 17). */
const ROTATED = `whsec_${randomBytes(24).toString('base64')}`;
/** An ed25519 private key given at registration: it never leaves Lockstep, not even into a log. */
const WHSK = generateKey('ed25519');
const HEADER_VALUE = `hdrvalue${randomBytes(6).toString('hex')}`;
const PAYLOAD = `payloadmarker${randomBytes(6).toString('hex')}`;

before(async () => {
  redis = await RedisServer.start();
  receiver = await TestReceiver.start();
});
after(async () => {
  for (const proc of procs) await proc.stop();
  await receiver?.close();
  await redis?.destroy();
});

test('Redis out of memory while registering, rotating keys, posting and delivering: no secret (current, previous or ed25519), header value or payload in any log', async () => {
  const env = {
    LOCKSTEP_REDIS_URL: redis.url,
    LOCKSTEP_LOG_LEVEL: 'trace',
    LOCKSTEP_RETRY_SCHEDULE: '0.05,0.05',
    LOCKSTEP_THROTTLED_MIN_MS: '0',
    LOCKSTEP_RECONCILE_EVERY_MS: '500',
  };
  procs = [await LockstepProcess.start('api', env), await LockstepProcess.start('emitter', env)];
  const api = new ApiClient(procs[0]?.url as string);
  receiver.set('slow', { delayMs: 20, status: 500 });
  const register = (): Promise<{ status: number; body: { id?: string; message?: string } }> =>
    api.request('POST', '/v1/receivers', {
      url: receiver.url('slow'),
      secret: SECRET,
      headers: { authorization: `Bearer ${HEADER_VALUE}`, 'x-plain': HEADER_VALUE },
    });
  const post = (n: number): Promise<{ status: number; body: { message?: string } }> =>
    api.request('POST', '/v1/messages', { eventType: 'oom.event', payload: { marker: PAYLOAD, n, pad: `${PAYLOAD} `.repeat(400) } });
  const batch = (n: number): Promise<{ status: number; body: { message?: string } }> =>
    api.request('POST', '/v1/messages/batch', {
      messages: [
        { eventType: 'oom.event', payload: { marker: PAYLOAD, n } },
        { eventType: 'oom.batch', payload: PAYLOAD },
      ],
    });

  const { body: first } = await register();
  const rotate = (): Promise<{ status: number; body: { message?: string } }> =>
    api.request('POST', `/v1/receivers/${first.id}/secret/rotate`, { secret: ROTATED, overlapMs: 600_000 });
  const registerEd25519 = (): Promise<{ status: number; body: { message?: string } }> =>
    api.request('POST', '/v1/receivers', { url: receiver.url('slow'), secret: WHSK });
  assert.equal((await rotate()).status, 200);
  assert.equal((await registerEd25519()).status, 201);
  for (let n = 0; n < 20; n++) assert.equal((await post(n)).status, 202);

  const admin = redis.client();
  const used = Number(/used_memory:(\d+)/.exec(await admin.info('memory'))?.[1]);
  await admin.config('SET', 'maxmemory', String(used + 256 * 1024));
  const statuses = new Map<number, number>();
  const count = (status: number): void => void statuses.set(status, (statuses.get(status) ?? 0) + 1);
  let oomAnswer = '';
  for (let n = 20; n < 400 && (statuses.get(503) ?? 0) < 30; n++) {
    const answers = await Promise.all([
      post(n),
      batch(n),
      register(),
      api.request('PATCH', `/v1/receivers/${first.id}`, { headers: { 'x-plain': HEADER_VALUE, 'x-api-key': HEADER_VALUE } }),
      rotate(),
      registerEd25519(),
    ]);
    for (const answer of answers) {
      count(answer.status);
      if (answer.status === 503) oomAnswer = (answer.body as { message?: string }).message ?? '';
    }
  }
  assert.ok((statuses.get(503) ?? 0) >= 30, `Redis refused writes: ${JSON.stringify(Object.fromEntries(statuses))}`);
  assert.equal(statuses.get(500), undefined, 'out of memory is a 503, never a 500');
  assert.match(oomAnswer, /out of memory/);
  // the emitter keeps trying to record attempts and claim deliveries under OOM for a while
  await waitFor('the emitter to log a failed write', () => procs[1]?.logs.some((line) => /OOM/.test(line)) ?? false, 20_000);
  await admin.config('SET', 'maxmemory', '0');
  admin.disconnect();
  for (const proc of procs) await proc.stop();

  const lines = procs.flatMap((proc) => proc.logs.map((line) => `${proc.role}: ${line}`));
  assert.ok(
    lines.some((line) => /api: .*OOM/.test(line)),
    'the API logged the out-of-memory errors',
  );
  const keyBodies = [SECRET, ROTATED, WHSK].map((key) => key.slice(key.indexOf('_') + 1));
  const leaks = lines.filter((line) => keyBodies.some((body) => line.includes(body)) || line.includes(HEADER_VALUE) || line.includes(PAYLOAD));
  assert.deepEqual(
    leaks.map((line) => line.slice(0, 400)),
    [],
    `${leaks.length} of ${lines.length} log lines leak`,
  );
});
