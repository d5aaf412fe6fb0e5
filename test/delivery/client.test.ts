import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { AddressGuard } from '../../src/delivery/address-guard.js';
import { DeliveryClient, parseRetryAfter } from '../../src/delivery/client.js';
import { generateSecret, isValidSecret, signatureHeaders } from '../../src/delivery/sign.js';

/** A real local receiver whose answer each test sets. */
let server: Server;
let base: string;
let sockets = 0;
let requests = 0;
let handler: (body: string, respond: (status: number, headers?: Record<string, string>, body?: string | Buffer) => void, closed: Promise<void>) => void;

before(async () => {
  server = createServer((request, response) => {
    requests++;
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    const closed = new Promise<void>((resolve) => response.once('close', resolve));
    request.on('end', () => handler(body, (status, headers = {}, payload = '') => response.writeHead(status, headers).end(payload), closed));
  });
  server.on('connection', () => sockets++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise((resolve) => server.close(resolve)));

const open = new AddressGuard({ allowPrivateNetworks: true, allowCidrs: [] });
const never = new AbortController().signal;
const send = (client: DeliveryClient, fields: Partial<Parameters<DeliveryClient['send']>[0]> = {}) =>
  client.send({ url: `${base}/hook`, headers: {}, body: '{}', timeoutMs: 2000, signal: never, ...fields });

test('Standard Webhooks signatures verify with the standardwebhooks package', () => {
  const secret = generateSecret();
  assert.ok(isValidSecret(secret));
  assert.ok(!isValidSecret('whsec_short'));
  assert.ok(!isValidSecret('secret'));
  const body = '{"type":"a.b","data":{"x":1},"fence":3}';
  const headers = signatureHeaders(secret, 'msg_1', Math.floor(Date.now() / 1000), body);
  assert.deepEqual(new Webhook(secret).verify(body, headers), JSON.parse(body));
});

test('status codes, bounded response capture, and keep-alive', async () => {
  const client = new DeliveryClient({ guard: open, maxResponseBytes: 1024 });
  try {
    handler = (_body, respond) => respond(201, { 'x-reply': 'yes' }, 'created');
    const ok = await send(client);
    assert.deepEqual([ok.statusCode, ok.errorKind, ok.responseBody, ok.responseHeaders['x-reply']], [201, null, 'created', 'yes']);
    handler = (_body, respond) => respond(500, {}, Buffer.alloc(5 * 1024 * 1024, 'x'));
    const big = await send(client);
    assert.equal(big.statusCode, 500);
    assert.equal(big.responseBody.length, 1024, 'only the first bytes are kept');
    handler = (_body, respond) => respond(200);
    const before = sockets;
    for (let i = 0; i < 20; i++) assert.equal((await send(client)).statusCode, 200);
    assert.equal(sockets - before, 1, 'twenty sequential requests share one connection');
  } finally {
    await client.close();
  }
});

test('redirects are not followed', async () => {
  const client = new DeliveryClient({ guard: open });
  handler = (_body, respond) => respond(302, { location: `${base}/elsewhere` });
  const count = requests;
  const result = await send(client);
  assert.equal(result.statusCode, 302);
  assert.equal(requests - count, 1);
  await client.close();
});

test('timeout and abort are told apart; abort ends the request at once and the receiver sees the socket close', async () => {
  const client = new DeliveryClient({ guard: open });
  let receiverSawClose = 0;
  handler = (_body, _respond, closed) => void closed.then(() => (receiverSawClose = Date.now()));
  const timedOut = await send(client, { timeoutMs: 200 });
  assert.equal(timedOut.errorKind, 'timeout');
  assert.match(timedOut.error ?? '', /timed out after 200 ms/);
  assert.ok(timedOut.durationMs >= 190 && timedOut.durationMs < 600, `${timedOut.durationMs} ms`);

  const lock = new AbortController();
  const sending = send(client, { timeoutMs: 10_000, signal: lock.signal });
  await new Promise((resolve) => setTimeout(resolve, 100));
  const abortedAt = Date.now();
  lock.abort(new Error('lock on rcv_x lost: deadline'));
  const aborted = await sending;
  const settledIn = Date.now() - abortedAt;
  assert.equal(aborted.errorKind, 'aborted');
  assert.equal(aborted.error, 'aborted: lock on rcv_x lost: deadline');
  assert.ok(settledIn <= 20, `settled ${settledIn} ms after the abort`);
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.ok(receiverSawClose >= abortedAt && receiverSawClose - abortedAt < 50, 'the receiver saw the connection close');
  await client.close();
});

test('Retry-After in seconds or as an HTTP date', async () => {
  assert.equal(parseRetryAfter('120'), 120_000);
  const inAMinute = parseRetryAfter(new Date(Date.now() + 60_000).toUTCString()) ?? 0;
  assert.ok(inAMinute > 58_000 && inAMinute <= 60_000, String(inAMinute));
  assert.equal(parseRetryAfter('soon'), null);
  assert.equal(parseRetryAfter(undefined), null);
  const client = new DeliveryClient({ guard: open });
  handler = (_body, respond) => respond(429, { 'retry-after': '7' });
  assert.equal((await send(client)).retryAfterMs, 7000);
  await client.close();
});

test('the guard refuses loopback at connect time, for IP literals and for names that resolve to it', async () => {
  const client = new DeliveryClient({ guard: new AddressGuard({ allowPrivateNetworks: false, allowCidrs: [] }) });
  const before = sockets;
  const literal = await send(client);
  assert.equal(literal.errorKind, 'blocked-address');
  assert.match(literal.error ?? '', /127\.0\.0\.1.*loopback/);
  const named = await send(client, { url: base.replace('127.0.0.1', 'localhost') + '/hook' });
  assert.equal(named.errorKind, 'blocked-address', named.error ?? '');
  assert.match(named.error ?? '', /localhost resolves to/);
  assert.equal(sockets, before, 'no connection was made');
  await client.close();
  const allowListed = new DeliveryClient({ guard: new AddressGuard({ allowPrivateNetworks: false, allowCidrs: ['127.0.0.0/8', '::1/128'] }) });
  handler = (_body, respond) => respond(204);
  assert.equal((await send(allowListed, { url: base.replace('127.0.0.1', 'localhost') + '/hook' })).statusCode, 204);
  await allowListed.close();
});

test('connection refused is a network error naming the cause', async () => {
  const client = new DeliveryClient({ guard: open });
  const result = await send(client, { url: 'http://127.0.0.1:1/hook' });
  assert.equal(result.errorKind, 'network');
  assert.match(result.error ?? '', /ECONNREFUSED/);
  await client.close();
});
