import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { useLockstep } from '../support/in-process.js';
import { waitFor, type ApiClient } from '../support/lockstep.js';
import type { TestReceiver } from '../support/receiver.js';

type Shown = { id: string; secret?: string; headers: Record<string, string> };
const MASK = '••••••••';

/**
 * Issue 12 item 4: the signing secret leaves the API only in the 201 of a create and from
 * GET /v1/receivers/:id/secret; credential-looking header values are masked in every answer.
 */
describe('secrets stay secret in API answers', () => {
  const context = useLockstep('all', { LOCKSTEP_ALLOW_PRIVATE_NETWORKS: 'true' });
  let api: ApiClient;
  let receiver: TestReceiver;
  const headers = {
    authorization: 'Bearer auth-value-1',
    Cookie: 'session=cookie-value-2',
    'x-api-key': 'key-value-3',
    'X-Auth-Token': 'token-value-4',
    'x-client-secret': 'secret-value-5',
    'x-tenant': 'acme',
  };
  const credentials = ['auth-value-1', 'cookie-value-2', 'key-value-3', 'token-value-4', 'secret-value-5'];
  const masked = { authorization: MASK, Cookie: MASK, 'x-api-key': MASK, 'X-Auth-Token': MASK, 'x-client-secret': MASK, 'x-tenant': 'acme' };
  let created: Shown;

  before(async () => {
    ({ api, receiver } = context());
    const answer = await api.request<Shown>('POST', '/v1/receivers', { url: receiver.url('private'), eventTypes: ['private.*'], headers });
    assert.equal(answer.status, 201);
    created = answer.body;
  });

  test('the 201 of a create carries the secret; credential headers are masked even there', () => {
    assert.match(created.secret ?? '', /^whsec_/);
    assert.deepEqual(created.headers, masked);
  });

  test('list, get and patch answers carry neither the secret nor a credential value', async () => {
    const answers = [
      await api.request('GET', '/v1/receivers?limit=500'),
      await api.request('GET', `/v1/receivers/${created.id}`),
      await api.request('PATCH', `/v1/receivers/${created.id}`, { description: 'patched' }),
    ];
    for (const answer of answers) {
      assert.equal(answer.status, 200);
      const text = JSON.stringify(answer.body);
      assert.ok(!text.includes(created.secret as string), `no secret in ${text.slice(0, 120)}`);
      assert.ok(!/"secret"/.test(text), 'no secret field at all');
      for (const value of credentials) assert.ok(!text.includes(value), `${value} is masked`);
    }
    assert.deepEqual((answers[1]?.body as Shown).headers, masked);
  });

  test('GET /v1/receivers/:id/secret returns it; an unknown id is a 404, a bad one a 400', async () => {
    assert.deepEqual((await api.request('GET', `/v1/receivers/${created.id}/secret`)).body, {
      secret: created.secret,
      signatureScheme: 'hmac-sha256',
      previousSecretExpiresAt: null,
    });
    assert.equal((await api.request('GET', '/v1/receivers/rcv_0000000000000000000000000a/secret')).status, 404);
    assert.equal((await api.request('GET', '/v1/receivers/nope/secret')).status, 400);
  });

  test('a PATCH that sends back the masked headers keeps the stored credentials, and delivery sends them', async () => {
    const shown = (await api.request<Shown>('GET', `/v1/receivers/${created.id}`)).body;
    const patched = await api.request<Shown>('PATCH', `/v1/receivers/${created.id}`, { headers: { ...shown.headers, 'x-tenant': 'globex' } });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    assert.deepEqual(patched.body.headers, { ...masked, 'x-tenant': 'globex' });
    await api.post('private.event', { n: 1 });
    await waitFor('the delivery', () => receiver.for('private').length > 0, 10_000);
    const sent = receiver.for('private')[0]?.headers ?? {};
    assert.equal(sent.authorization, 'Bearer auth-value-1');
    assert.equal(sent['x-api-key'], 'key-value-3');
    assert.equal(sent['x-auth-token'], 'token-value-4');
    assert.equal(sent['x-tenant'], 'globex');
    const unknownMask = await api.request<{ field?: string }>('PATCH', `/v1/receivers/${created.id}`, { headers: { 'x-new-key': MASK } });
    assert.equal(unknownMask.status, 422);
    assert.equal(unknownMask.body.field, 'headers.x-new-key');
  });
});
