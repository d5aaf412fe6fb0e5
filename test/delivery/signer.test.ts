import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { Signer } from '../../src/delivery/signer.js';
import { generateKey, isValidKey, schemeOfKey, verificationKey } from '../../src/delivery/signing-keys.js';
import { verifiesEd25519 } from '../support/signatures.js';

const now = (): number => Math.floor(Date.now() / 1000);
const BODY = '{"type":"invoice.paid","timestamp":"2024-01-01T00:00:00.000Z","data":{"amount":10},"fence":3}';

test('a generated ed25519 key is whsk_ + base64 of the 64-byte secret key; its whpk_ is base64 of the 32-byte public key', () => {
  const key = generateKey('ed25519');
  assert.match(key, /^whsk_[A-Za-z0-9+/]{86}==$/);
  assert.equal(schemeOfKey(key), 'ed25519');
  assert.ok(isValidKey(key, 'ed25519'));
  assert.ok(!isValidKey(key, 'hmac-sha256'));
  const whpk = verificationKey(key);
  assert.match(whpk, /^whpk_[A-Za-z0-9+/]{43}=$/);
  assert.equal(Buffer.from(key.slice(5), 'base64').subarray(32).toString('base64'), whpk.slice(5), 'the secret key ends with its public key');
  assert.notEqual(generateKey('ed25519'), key);
});

test('a whsk_ holding only the 32-byte seed (as Node and Python export it) signs the same; a damaged one is refused', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const seed = Buffer.from(privateKey.export({ format: 'jwk' }).d ?? '', 'base64url');
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x ?? '', 'base64url');
  const short = `whsk_${seed.toString('base64')}`;
  const long = `whsk_${Buffer.concat([seed, raw]).toString('base64')}`;
  assert.ok(isValidKey(short, 'ed25519') && isValidKey(long, 'ed25519'));
  assert.equal(verificationKey(short), `whpk_${raw.toString('base64')}`);
  assert.equal(verificationKey(long), verificationKey(short));
  const otherPublic = Buffer.from(generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x ?? '', 'base64url');
  for (const bad of [
    `whsk_${Buffer.concat([seed, otherPublic]).toString('base64')}`,
    `whsk_${seed.subarray(1).toString('base64')}`,
    'whsk_',
    `whsk_${seed.toString('base64')} `,
  ])
    assert.ok(!isValidKey(bad, 'ed25519'), bad);
  assert.equal(verificationKey(generateKey('hmac-sha256')).slice(0, 6), 'whsec_', 'an HMAC secret is its own verification key');
});

test('ed25519: the v1a signature over "<id>.<timestamp>.<body>" verifies with crypto.verify and the whpk_, and nothing else', () => {
  const key = generateKey('ed25519');
  const headers = new Signer(key).headers('msg_1', now(), BODY, 0);
  assert.match(headers['webhook-signature'], /^v1a,[A-Za-z0-9+/]{86}==$/);
  assert.ok(verifiesEd25519(verificationKey(key), headers, BODY));
  assert.ok(!verifiesEd25519(verificationKey(key), headers, BODY.replace('10', '11')));
  assert.ok(!verifiesEd25519(verificationKey(generateKey('ed25519')), headers, BODY));
  // the Standard Webhooks JS library only knows v1: it finds no signature it can check
  assert.throws(() => new Webhook(generateKey('hmac-sha256')).verify(BODY, headers), /No matching signature/);
});

test('rotation overlap: both signatures, new first, until the previous key’s end; then only the new one', () => {
  const [old, fresh] = [generateKey('hmac-sha256'), generateKey('hmac-sha256')];
  const signer = new Signer(fresh, { key: old, untilMs: 1000 });
  const during = signer.headers('msg_1', now(), BODY, 999);
  const [first, second, ...more] = during['webhook-signature'].split(' ');
  assert.equal(more.length, 0);
  assert.equal(first, new Signer(fresh).headers('msg_1', Number(during['webhook-timestamp']), BODY, 0)['webhook-signature'], 'new first');
  assert.equal(second, new Signer(old).headers('msg_1', Number(during['webhook-timestamp']), BODY, 0)['webhook-signature']);
  assert.deepEqual(new Webhook(old).verify(BODY, during), JSON.parse(BODY), 'a receiver with only the old secret verifies');
  assert.deepEqual(new Webhook(fresh).verify(BODY, during), JSON.parse(BODY), 'a receiver with only the new secret verifies');
  const after = signer.headers('msg_1', now(), BODY, 1000);
  assert.equal(after['webhook-signature'].split(' ').length, 1);
  assert.throws(() => new Webhook(old).verify(BODY, after), /No matching signature/, 'the old secret fails once the overlap ended');
  assert.deepEqual(new Webhook(fresh).verify(BODY, after), JSON.parse(BODY));
});

test('a rotation from HMAC to ed25519 overlaps too: v1a,<new> v1,<old>', () => {
  const [old, fresh] = [generateKey('hmac-sha256'), generateKey('ed25519')];
  const headers = new Signer(fresh, { key: old, untilMs: 10 }).headers('msg_1', now(), BODY, 5);
  assert.match(headers['webhook-signature'], /^v1a,\S+ v1,\S+$/);
  assert.ok(verifiesEd25519(verificationKey(fresh), headers, BODY));
  assert.deepEqual(new Webhook(old).verify(BODY, headers), JSON.parse(BODY));
});

test('ed25519 → ed25519 overlap: v1a,<new> v1a,<old>; the old whpk_ verifies until the previous key’s end, then not', () => {
  const [old, fresh] = [generateKey('ed25519'), generateKey('ed25519')];
  const signer = new Signer(fresh, { key: old, untilMs: 10 });
  const during = signer.headers('msg_1', now(), BODY, 9);
  assert.match(during['webhook-signature'], /^v1a,\S+ v1a,\S+$/);
  assert.ok(verifiesEd25519(verificationKey(fresh), during, BODY));
  assert.ok(verifiesEd25519(verificationKey(old), during, BODY));
  const after = signer.headers('msg_1', now(), BODY, 10);
  assert.match(after['webhook-signature'], /^v1a,\S+$/);
  assert.ok(verifiesEd25519(verificationKey(fresh), after, BODY));
  assert.ok(!verifiesEd25519(verificationKey(old), after, BODY));
});
