import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { RotatedSecret } from '../../src/shapes/signing.js';
import { Fleet } from '../support/fleet.js';
import { waitFor } from '../support/ports.js';
import { verifiesHmac } from '../support/signatures.js';

/**
 * Issue 17: a key rotation across a running fleet (an API and three emitter processes on a real
 * Redis), while messages stream to three receivers. A receiver holding only the old secret
 * verifies every request (with the Standard Webhooks reference library) until the overlap ends,
 * and none after; every request started once a window could have been claimed after the rotation
 * verifies with the new secret.
 */
const OVERLAP_MS = 4000;
/** Clock reading and request start on one machine: a request this close to a boundary is not judged. */
const MARGIN_MS = 300;
/** A window claimed just before the rotation may still be sent with the old key alone: at most this long. */
const WINDOW_MS = 1500;
const NAMES = ['rot-a', 'rot-b', 'rot-c'];

let fleet: Fleet;
before(async () => {
  fleet = await Fleet.start(3, { LOCKSTEP_LOG_LEVEL: 'warn' });
});
after(() => fleet?.stop());

test('rotation with an overlap across three emitters: the old secret verifies until the overlap ends, then fails', async () => {
  const { client, receiver } = fleet;
  const secrets = new Map<string, { old: string; fresh?: string; id: string }>();
  for (const name of NAMES) {
    receiver.set(name, { delayMs: 15 });
    const created = await client.createReceiver({ url: receiver.url(name), eventTypes: [`${name}.*`] });
    secrets.set(name, { old: created.secret, id: created.id });
  }
  let streaming = true;
  let posted = 0;
  const stream = (async () => {
    while (streaming) {
      await Promise.all(NAMES.map((name) => client.post(`${name}.event`, { n: posted })));
      posted++;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  await waitFor('deliveries before the rotation', () => NAMES.every((name) => receiver.for(name).length >= 10), 10_000);

  const rotatedAt = Date.now();
  const endsAt = new Map<string, number>();
  for (const name of NAMES) {
    const entry = secrets.get(name) as { old: string; id: string };
    const { status, body } = await client.request<RotatedSecret>('POST', `/v1/receivers/${entry.id}/secret/rotate`, { overlapMs: OVERLAP_MS });
    assert.equal(status, 200, JSON.stringify(body));
    secrets.set(name, { ...entry, fresh: body.secret });
    endsAt.set(name, Date.parse(body.previousSecretExpiresAt ?? ''));
  }
  // counted, not timed: on a loaded machine 1.5 s after the overlap once held only 9 deliveries to one receiver
  const afterEnd = (name: string): number =>
    receiver.for(name).filter((request) => request.status === 200 && request.start > (endsAt.get(name) as number) + MARGIN_MS).length;
  await waitFor('the overlap to end, and 10 deliveries after it to every receiver', () => NAMES.every((name) => afterEnd(name) >= 10), OVERLAP_MS + 15_000);
  streaming = false;
  await stream;

  for (const name of NAMES) {
    const { old, fresh } = secrets.get(name) as { old: string; fresh: string };
    const end = endsAt.get(name) as number;
    const requests = receiver.for(name).filter((request) => request.status === 200);
    const judged = { during: 0, after: 0 };
    for (const request of requests) {
      const withOld = verifiesHmac(old, request.headers, request.body);
      const withNew = verifiesHmac(fresh, request.headers, request.body);
      if (request.start < end - MARGIN_MS) {
        assert.ok(withOld, `${name}: a request at ${request.start - rotatedAt} ms after the rotation verifies with the old secret alone`);
        if (request.start > rotatedAt) judged.during++;
      } else if (request.start > end + MARGIN_MS) {
        assert.ok(!withOld, `${name}: a request ${request.start - end} ms after the overlap ended does not verify with the old secret`);
        assert.equal(request.headers['webhook-signature']?.split(' ').length, 1);
        judged.after++;
      }
      if (request.start > rotatedAt + WINDOW_MS)
        assert.ok(withNew, `${name}: a request ${request.start - rotatedAt} ms after the rotation verifies with the new secret`);
    }
    assert.ok(judged.during >= 20 && judged.after >= 10, `${name}: enough requests on both sides of the overlap's end: ${JSON.stringify(judged)}`);
  }
});

test('a hard switch (overlapMs 0) while a window is in flight to a slow receiver: every request started after the rotate call returned carries the new key alone', async () => {
  const { client, receiver } = fleet;
  receiver.set('rot-hard', { delayMs: 200 });
  const created = await client.createReceiver({ url: receiver.url('rot-hard'), eventTypes: ['rot-hard.*'] });
  await Promise.all(Array.from({ length: 20 }, (_, n) => client.post('rot-hard.event', { n })));
  // 200 ms a request: the window claimed now holds most of the 20 while the rotation happens
  await waitFor('the first requests of the window', () => receiver.for('rot-hard').length >= 3, 10_000);
  const { status, body } = await client.request<RotatedSecret>('POST', `/v1/receivers/${created.id}/secret/rotate`, { overlapMs: 0 });
  const rotatedAt = Date.now();
  assert.equal(status, 200, JSON.stringify(body));
  assert.equal(body.previousSecretExpiresAt, null);
  await waitFor('all 20 delivered', () => new Set(receiver.for('rot-hard').map((request) => request.messageId)).size >= 20, 20_000);
  const after = receiver.for('rot-hard').filter((request) => request.start >= rotatedAt);
  assert.ok(after.length >= 10, `requests after the rotation: ${after.length}`);
  for (const request of after) {
    const at = `a request ${request.start - rotatedAt} ms after the rotation`;
    assert.equal(request.headers['webhook-signature']?.split(' ').length, 1, at);
    assert.ok(verifiesHmac(body.secret, request.headers, request.body), `${at} verifies with the new secret`);
    assert.ok(!verifiesHmac(created.secret, request.headers, request.body), `${at} does not verify with the old secret`);
  }
});

test('an emitter paused (kill -STOP) during a rotation: the answer waits a second for it, the API warns naming the receiver, and once resumed it signs with the new key', async () => {
  const { client, receiver, api, emitters } = fleet;
  const created = await client.createReceiver({ url: receiver.url('rot-paused'), eventTypes: ['rot-paused.*'] });
  const paused = emitters[0] as (typeof emitters)[number];
  paused.pause();
  let rotated: RotatedSecret;
  try {
    const startedAt = Date.now();
    const { status, body } = await client.request<RotatedSecret>('POST', `/v1/receivers/${created.id}/secret/rotate`, { overlapMs: 0 });
    assert.equal(status, 200, JSON.stringify(body));
    assert.ok(Date.now() - startedAt >= 900, 'the answer waited for the paused emitter’s confirmation, up to its bound');
    rotated = body;
    await waitFor(
      'the warning naming the receiver',
      () => api.json().some((line) => line.level === 40 && line.receiverId === created.id && line.unconfirmed === 1),
      5000,
    );
  } finally {
    paused.resume();
  }
  await Promise.all(Array.from({ length: 12 }, (_, n) => client.post('rot-paused.event', { n })));
  await waitFor('all 12 delivered', () => new Set(receiver.for('rot-paused').map((request) => request.messageId)).size >= 12, 20_000);
  for (const request of receiver.for('rot-paused')) {
    assert.ok(verifiesHmac(rotated.secret, request.headers, request.body), 'every request verifies with the new secret');
    assert.ok(!verifiesHmac(created.secret, request.headers, request.body), 'none with the old one');
  }
});
