import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { generateKey } from '../../src/delivery/signing-keys.js';
import { DEFAULT_OVERLAP_MS } from '../../src/domain/signing.js';
import type { PublicReceiver } from '../../src/shapes/receivers.js';
import type { ReceiverSecret, RotatedSecret } from '../../src/shapes/signing.js';
import { useLockstep } from '../support/in-process.js';
import { waitFor, type ApiClient } from '../support/lockstep.js';
import type { TestReceiver } from '../support/receiver.js';
import { verifiesEd25519, verifiesHmac } from '../support/signatures.js';

type Problem = { field?: string; message?: string };

/** Issue 17 items 1 and 2, through the API and a real emitter: ed25519 receivers, rotation with an overlap. */
describe('signing: ed25519 and key rotation', () => {
  const context = useLockstep('all', { LOCKSTEP_ALLOW_PRIVATE_NETWORKS: 'true' });
  let api: ApiClient;
  let receiver: TestReceiver;
  before(() => ({ api, receiver } = context()));

  const secretOf = async (id: string): Promise<ReceiverSecret> => (await api.request<ReceiverSecret>('GET', `/v1/receivers/${id}/secret`)).body;
  /** Posts one message to the path's receiver and returns the request it got. */
  const deliverOne = async (path: string, n: number): Promise<{ headers: Record<string, string>; body: string }> => {
    const before = receiver.for(path).length;
    await api.post(`${path}.event`, { n });
    await waitFor(`delivery ${n} to ${path}`, () => receiver.for(path).length > before, 10_000);
    return receiver.for(path).at(-1) as { headers: Record<string, string>; body: string };
  };

  test('an ed25519 receiver: the 201 and GET …/secret show the whpk_, deliveries carry a v1a signature crypto.verify accepts', async () => {
    const created = await api.createReceiver({ url: receiver.url('ed'), eventTypes: ['ed.*'], signatureScheme: 'ed25519' });
    assert.match(created.secret, /^whpk_[A-Za-z0-9+/]{43}=$/);
    assert.equal(created.signatureScheme, 'ed25519');
    assert.deepEqual(await secretOf(created.id), { secret: created.secret, signatureScheme: 'ed25519', previousSecretExpiresAt: null });
    const request = await deliverOne('ed', 1);
    assert.match(request.headers['webhook-signature'] ?? '', /^v1a,\S+$/);
    assert.ok(verifiesEd25519(created.secret, request.headers, request.body));
    assert.ok(!verifiesEd25519(created.secret, request.headers, request.body.replace('"n":1', '"n":2')));
  });

  test('a given whsk_ sets the scheme; the private key never leaves the API', async () => {
    const whsk = generateKey('ed25519');
    const created = await api.createReceiver({ url: receiver.url('given'), eventTypes: ['given.*'], secret: whsk });
    assert.equal(created.signatureScheme, 'ed25519');
    assert.match(created.secret, /^whpk_/);
    const answers = [
      JSON.stringify(created),
      JSON.stringify((await api.request('GET', `/v1/receivers/${created.id}`)).body),
      JSON.stringify((await api.request('GET', '/v1/receivers?limit=500')).body),
      JSON.stringify(await secretOf(created.id)),
    ];
    for (const text of answers) assert.ok(!text.includes(whsk.slice(5, 40)) && !text.includes('whsk_'), text.slice(0, 200));
    const request = await deliverOne('given', 1);
    assert.ok(verifiesEd25519(created.secret, request.headers, request.body));
  });

  test('bad keys, schemes and overlaps are 400s naming the field, and change nothing', async () => {
    const created = await api.createReceiver({ url: receiver.url('bad'), eventTypes: ['bad.*'] });
    const cases: [string, string, unknown, string][] = [
      ['POST', '/v1/receivers', { url: receiver.url('bad'), signatureScheme: 'rsa' }, 'signatureScheme'],
      ['POST', '/v1/receivers', { url: receiver.url('bad'), signatureScheme: 'ed25519', secret: generateKey('hmac-sha256') }, 'secret'],
      ['POST', '/v1/receivers', { url: receiver.url('bad'), secret: 'whsk_AAAA' }, 'secret'],
      ['PATCH', `/v1/receivers/${created.id}`, { signatureScheme: 'hmac-sha256', secret: generateKey('ed25519') }, 'secret'],
      ['POST', `/v1/receivers/${created.id}/secret/rotate`, { secret: 'whsec_short' }, 'secret'],
      ['POST', `/v1/receivers/${created.id}/secret/rotate`, { overlapMs: -1 }, 'overlapMs'],
      ['POST', `/v1/receivers/${created.id}/secret/rotate`, { overlapMs: 1, extra: true }, 'extra'],
    ];
    for (const [method, path, body, field] of cases) {
      const answer = await api.request<Problem>(method, path, body);
      assert.equal(answer.status, 400, `${method} ${path} ${JSON.stringify(body)}: ${JSON.stringify(answer.body)}`);
      assert.match(`${answer.body.field} ${answer.body.message}`, new RegExp(field), JSON.stringify(answer.body));
    }
    assert.deepEqual(await secretOf(created.id), { secret: created.secret, signatureScheme: 'hmac-sha256', previousSecretExpiresAt: null });
    assert.equal((await api.request('POST', '/v1/receivers/rcv_0000000000000000000000000a/secret/rotate', {})).status, 404);
  });

  test('rotation: both signatures until the overlap ends, a receiver holding only the old secret verifies until then, then fails', async () => {
    const created = await api.createReceiver({ url: receiver.url('rot'), eventTypes: ['rot.*'] });
    const old = created.secret;
    const overlapMs = 3000;
    const rotated = await api.request<RotatedSecret>('POST', `/v1/receivers/${created.id}/secret/rotate`, { overlapMs });
    assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
    const { secret: fresh, previousSecretExpiresAt } = rotated.body;
    assert.match(fresh, /^whsec_/);
    assert.notEqual(fresh, old);
    const endsAt = Date.parse(previousSecretExpiresAt ?? '');
    assert.ok(Math.abs(endsAt - (Date.now() + overlapMs)) < 1000, previousSecretExpiresAt ?? 'no expiry');
    assert.deepEqual(await secretOf(created.id), { secret: fresh, signatureScheme: 'hmac-sha256', previousSecretExpiresAt });
    assert.equal((await api.request<PublicReceiver>('GET', `/v1/receivers/${created.id}`)).body.previousSecretExpiresAt, previousSecretExpiresAt);

    const during = await deliverOne('rot', 1);
    assert.equal(during.headers['webhook-signature']?.split(' ').length, 2, 'new and old');
    assert.ok(verifiesHmac(old, during.headers, during.body), 'the old secret alone verifies during the overlap');
    assert.ok(verifiesHmac(fresh, during.headers, during.body));

    await waitFor('the overlap to end', () => Date.now() > endsAt + 100, overlapMs + 1000);
    const after = await deliverOne('rot', 2);
    assert.equal(after.headers['webhook-signature']?.split(' ').length, 1);
    assert.ok(!verifiesHmac(old, after.headers, after.body), 'the old secret fails once the overlap ended');
    assert.ok(verifiesHmac(fresh, after.headers, after.body));
    assert.equal((await secretOf(created.id)).previousSecretExpiresAt, null);
  });

  test('rotating an HMAC receiver to a whsk_ switches scheme with an overlap; overlapMs 0 switches at once', async () => {
    const created = await api.createReceiver({ url: receiver.url('switch'), eventTypes: ['switch.*'] });
    const whsk = generateKey('ed25519');
    const rotated = (await api.request<RotatedSecret>('POST', `/v1/receivers/${created.id}/secret/rotate`, { secret: whsk, overlapMs: 60_000 })).body;
    assert.match(rotated.secret, /^whpk_/);
    const during = await deliverOne('switch', 1);
    assert.match(during.headers['webhook-signature'] ?? '', /^v1a,\S+ v1,\S+$/);
    assert.ok(verifiesEd25519(rotated.secret, during.headers, during.body));
    assert.ok(verifiesHmac(created.secret, during.headers, during.body));
    const hard = (await api.request<RotatedSecret>('POST', `/v1/receivers/${created.id}/secret/rotate`, { overlapMs: 0 })).body;
    assert.equal(hard.previousSecretExpiresAt, null);
    assert.match(hard.secret, /^whpk_/, 'generated in the receiver’s scheme');
    const after = await deliverOne('switch', 2);
    assert.match(after.headers['webhook-signature'] ?? '', /^v1a,\S+$/);
    assert.ok(verifiesEd25519(hard.secret, after.headers, after.body));
  });

  test('ed25519 → ed25519 with an overlap: v1a,<new> v1a,<old>; the old whpk_ verifies until the overlap ends, then not', async () => {
    const created = await api.createReceiver({ url: receiver.url('edrot'), eventTypes: ['edrot.*'], signatureScheme: 'ed25519' });
    const overlapMs = 3000;
    const rotated = (await api.request<RotatedSecret>('POST', `/v1/receivers/${created.id}/secret/rotate`, { overlapMs })).body;
    assert.match(rotated.secret, /^whpk_/, 'generated in the receiver’s scheme');
    assert.notEqual(rotated.secret, created.secret);
    const endsAt = Date.parse(rotated.previousSecretExpiresAt ?? '');
    const during = await deliverOne('edrot', 1);
    assert.match(during.headers['webhook-signature'] ?? '', /^v1a,\S+ v1a,\S+$/);
    assert.ok(verifiesEd25519(rotated.secret, during.headers, during.body), 'the new whpk_ verifies');
    assert.ok(verifiesEd25519(created.secret, during.headers, during.body), 'the old whpk_ verifies during the overlap');
    await waitFor('the overlap to end', () => Date.now() > endsAt + 100, overlapMs + 1000);
    const after = await deliverOne('edrot', 2);
    assert.match(after.headers['webhook-signature'] ?? '', /^v1a,\S+$/);
    assert.ok(verifiesEd25519(rotated.secret, after.headers, after.body));
    assert.ok(!verifiesEd25519(created.secret, after.headers, after.body), 'the old whpk_ fails once the overlap ended');
  });

  test('a rotation sent with {} generates a key and keeps the old one signing for 24 h (DEFAULT_OVERLAP_MS)', async () => {
    const created = await api.createReceiver({ url: receiver.url('default'), eventTypes: ['default.*'] });
    const rotated = await api.request<RotatedSecret>('POST', `/v1/receivers/${created.id}/secret/rotate`, {});
    assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
    assert.match(rotated.body.secret, /^whsec_/);
    assert.notEqual(rotated.body.secret, created.secret);
    const endsAt = Date.parse(rotated.body.previousSecretExpiresAt ?? '');
    assert.ok(Math.abs(endsAt - (Date.now() + DEFAULT_OVERLAP_MS)) < 5000, rotated.body.previousSecretExpiresAt ?? 'no expiry');
    assert.equal((await secretOf(created.id)).previousSecretExpiresAt, rotated.body.previousSecretExpiresAt);
    const request = await deliverOne('default', 1);
    assert.ok(verifiesHmac(created.secret, request.headers, request.body), 'the old secret still verifies');
    assert.ok(verifiesHmac(rotated.body.secret, request.headers, request.body));
  });

  test('PATCHes racing a rotation never undo it (compare and set on the receiver config)', async () => {
    const created = await api.createReceiver({ url: receiver.url('race'), eventTypes: ['race.*'] });
    for (let round = 0; round < 5; round++) {
      const patches = Array.from({ length: 20 }, (_, n) => api.request('PATCH', `/v1/receivers/${created.id}`, { description: `round ${round} patch ${n}` }));
      const rotation = api.request<RotatedSecret>('POST', `/v1/receivers/${created.id}/secret/rotate`, { overlapMs: 60_000 });
      const [rotated, ...patched] = await Promise.all([rotation, ...patches]);
      assert.deepEqual(
        patched.map((answer) => answer.status).filter((status) => status !== 200),
        [],
      );
      const shown = await secretOf(created.id);
      assert.equal(shown.secret, rotated.body.secret, `round ${round}: the rotated key is current`);
      assert.equal(shown.previousSecretExpiresAt, rotated.body.previousSecretExpiresAt);
    }
  });

  test('a PATCH of signatureScheme alone generates a key of the new scheme and ends any overlap', async () => {
    const created = await api.createReceiver({ url: receiver.url('patch'), eventTypes: ['patch.*'] });
    await api.request('POST', `/v1/receivers/${created.id}/secret/rotate`, {});
    const patched = await api.request<PublicReceiver>('PATCH', `/v1/receivers/${created.id}`, { signatureScheme: 'ed25519' });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    assert.equal(patched.body.signatureScheme, 'ed25519');
    assert.equal(patched.body.previousSecretExpiresAt, undefined);
    const shown = await secretOf(created.id);
    assert.match(shown.secret, /^whpk_/);
    assert.equal(shown.previousSecretExpiresAt, null);
    const request = await deliverOne('patch', 1);
    assert.match(request.headers['webhook-signature'] ?? '', /^v1a,\S+$/);
    assert.ok(verifiesEd25519(shown.secret, request.headers, request.body));
  });
});
