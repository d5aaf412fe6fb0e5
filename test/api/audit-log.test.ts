import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ApiClient, LockstepProcess, waitFor } from '../support/lockstep.js';
import { RedisServer } from '../support/redis.js';
import { createToken } from '../support/tenants.js';

/**
 * Who did what, from the log alone: every line a request logs after its token is checked says
 * `by` (the stored token's id, or LOCKSTEP_API_TOKEN), as the operational events do.
 */
let redis: RedisServer;
let proc: LockstepProcess;

before(async () => {
  redis = await RedisServer.start();
  proc = await LockstepProcess.start('api', { LOCKSTEP_REDIS_URL: redis.url });
});
after(async () => {
  await proc?.stop();
  await redis?.destroy();
});

test('a real API process logs who registered, read the secret of, changed and deleted a receiver', async () => {
  const admin = new ApiClient(proc.url ?? '');
  const operator = await createToken(admin, ['admin']);
  const created = await admin.createReceiver({ url: 'https://billing.example.com/hook' });
  const asOperator = new ApiClient(admin.url, operator.token);
  assert.equal((await asOperator.request('GET', `/v1/receivers/${created.id}/secret`)).status, 200);
  assert.equal((await asOperator.request('PATCH', `/v1/receivers/${created.id}`, { enabled: false })).status, 200);
  assert.equal((await admin.request('DELETE', `/v1/receivers/${created.id}`)).status, 204);
  const said = (msg: string) => proc.json().filter((line) => line.msg === msg && line.receiverId === created.id);
  // the child's stdout may reach this process a moment after the answer
  await waitFor('the last log line', () => said('receiver deleted').length > 0);
  assert.deepEqual(
    ['receiver registered', 'receiver secret read', 'receiver updated', 'receiver deleted'].map((msg) => [msg, said(msg).map((line) => line.by)]),
    [
      ['receiver registered', ['LOCKSTEP_API_TOKEN']],
      ['receiver secret read', [operator.id]],
      ['receiver updated', [operator.id]],
      ['receiver deleted', ['LOCKSTEP_API_TOKEN']],
    ],
  );
});

test("a real API process logs who deleted a message's payload, and never the payload", async () => {
  const admin = new ApiClient(proc.url ?? '');
  const operator = await createToken(admin, ['admin']);
  const { id } = await admin.post('audit.mistake', { card: '4242 4242 4242 4242' });
  assert.equal((await new ApiClient(admin.url, operator.token).request('DELETE', `/v1/messages/${id}/payload`)).status, 204);
  const said = () => proc.json().filter((line) => line.msg === 'message payload deleted' && line.messageId === id);
  await waitFor('the log line', () => said().length > 0);
  const lines = said();
  assert.deepEqual(
    lines.map((line) => [line.by, typeof line.payloadDeletedAt]),
    [[operator.id, 'string']],
  );
  assert.ok(!proc.logs.some((line) => line.includes('4242 4242')), 'the payload is in no log line');
});
