import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { generateSecret, isValidSecret, signatureHeaders } from '../../src/delivery/sign.js';

const now = (): number => Math.floor(Date.now() / 1000);

test('a generated secret is whsec_ + base64 of 24 random bytes', () => {
  const secret = generateSecret();
  assert.match(secret, /^whsec_[A-Za-z0-9+/]{32}$/);
  assert.equal(Buffer.from(secret.slice(6), 'base64').length, 24);
  assert.ok(isValidSecret(secret));
  assert.notEqual(generateSecret(), secret);
});

test('isValidSecret wants whsec_ and canonical base64 of 24 to 64 bytes', () => {
  const b64 = (bytes: number): string => Buffer.alloc(bytes, 7).toString('base64');
  const cases: [string, boolean][] = [
    [`whsec_${b64(24)}`, true],
    [`whsec_${b64(32)}`, true],
    [`whsec_${b64(64)}`, true],
    [`whsec_${b64(23)}`, false],
    [`whsec_${b64(65)}`, false],
    [b64(32), false],
    ['whsec_', false],
    ['whsec_short', false],
    [`whsec_${b64(32).slice(0, -1)}`, false], // truncated: not a multiple of 4
    [`whsec_${b64(32)} `, false],
    [`whsec_${b64(32).replace(/.$/, '*')}`, false],
    [`WHSEC_${b64(32)}`, false],
    [`whsec_${b64(25)}`, true],
    [`whsec_${b64(25).replace('w==', 'x==')}`, false], // stray bits before the padding decode to the same bytes: not canonical
  ];
  for (const [secret, valid] of cases) assert.equal(isValidSecret(secret), valid, secret);
});

test('signatures match the Standard Webhooks reference vector', () => {
  const headers = signatureHeaders('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}');
  assert.deepEqual(headers, {
    'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek',
    'webhook-timestamp': '1614265330',
    'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
  });
});

test('the standardwebhooks package verifies what we sign, and rejects any change', () => {
  const secret = generateSecret();
  const body = '{"type":"invoice.paid","timestamp":"2024-01-01T00:00:00.000Z","data":{"amount":10,"note":"é ✓"},"fence":3}';
  const headers = signatureHeaders(secret, 'msg_1', now(), body);
  assert.deepEqual(new Webhook(secret).verify(body, headers), JSON.parse(body));
  assert.throws(() => new Webhook(secret).verify(body.replace('10', '11'), headers), /signature/i);
  assert.throws(() => new Webhook(generateSecret()).verify(body, headers), /signature/i);
  assert.throws(() => new Webhook(secret).verify(body, { ...headers, 'webhook-id': 'msg_2' }), /signature/i);
});

test('a fractional timestamp is refused rather than signed into a header no verifier reconstructs', () => {
  assert.throws(() => signatureHeaders(generateSecret(), 'msg_1', 1614265330.5, '{}'), RangeError);
});
