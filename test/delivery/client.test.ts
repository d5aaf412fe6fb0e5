import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { beforeEach, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { parseRetryAfter } from '../../src/delivery/client.js';
import { generateSecret, signatureHeaders } from '../../src/delivery/sign.js';
import { useClientReceiver } from '../support/delivery-client.js';
import type { TestReceiver } from '../support/receiver.js';

/** The delivery client against a real local receiver: the request, the answer, timeouts, aborts, bounds, connections. */
const harness = useClientReceiver();
const { withClient } = harness;
let receiver: TestReceiver;
beforeEach(() => (receiver = harness.receiver())); // top-level before hooks run together on Node 20: read it once they are done

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const closeOf = (response: ServerResponse): Promise<number> => new Promise((resolve) => response.once('close', () => resolve(performance.now())));

/** Writes `total` bytes in chunks, honouring back-pressure, until done or the client goes away. */
async function stream(response: ServerResponse, total: number): Promise<void> {
  const chunk = Buffer.alloc(64 * 1024, 'x');
  const closed = closeOf(response);
  response.writeHead(200, { 'content-type': 'application/octet-stream' });
  for (let sent = 0; sent < total && !response.destroyed; sent += chunk.length) {
    if (!response.write(chunk)) await Promise.race([new Promise((resolve) => response.once('drain', resolve)), closed]);
  }
  if (!response.destroyed) response.end();
}

test('the receiver gets one POST with JSON, our user-agent, the caller headers and a signature standardwebhooks verifies', async () => {
  const secret = generateSecret();
  const body = '{"type":"invoice.paid","timestamp":"2024-01-01T00:00:00.000Z","data":{"n":1},"fence":7}';
  const signed = signatureHeaders(secret, 'msg_abc', Math.floor(Date.now() / 1000), body);
  await withClient({}, async (send) => {
    const result = await send({ url: receiver.address('/hook?x=1'), body, headers: { 'X-Tenant': 'acme', 'Content-Type': 'text/plain', ...signed } });
    assert.equal(result.statusCode, 200);
  });
  const got = receiver.received.at(-1);
  assert.ok(got);
  assert.deepEqual([got.method, got.path, got.body], ['POST', '/hook?x=1', body]);
  assert.equal(got.headers['content-type'], 'application/json', 'one content type, always JSON');
  assert.match(got.headers['user-agent'] ?? '', /^Lockstep\/\d+\.\d+\.\d+/);
  assert.equal(got.headers['x-tenant'], 'acme');
  const headers = {
    'webhook-id': String(got.headers['webhook-id']),
    'webhook-timestamp': String(got.headers['webhook-timestamp']),
    'webhook-signature': String(got.headers['webhook-signature']),
  };
  assert.deepEqual(new Webhook(secret).verify(got.body, headers), JSON.parse(body));
});

test('status codes are reported as they are, with the response headers and body', async () => {
  await withClient({}, async (send) => {
    for (const status of [200, 201, 202, 204, 299, 400, 401, 404, 409, 410, 422, 429, 500, 502, 503, 504]) {
      receiver.answer = (response) => response.writeHead(status, { 'x-status': String(status) }).end(status === 204 ? undefined : `answer ${status}`);
      const result = await send();
      assert.equal(result.statusCode, status);
      assert.equal(result.errorKind, null);
      assert.equal(result.error, null);
      assert.equal(result.responseHeaders['x-status'], String(status));
      assert.equal(result.responseBody, status === 204 ? '' : `answer ${status}`);
      assert.equal(result.retryAfterMs, null);
    }
  });
});

test('redirects are reported, never followed', async () => {
  await withClient({}, async (send) => {
    for (const status of [301, 302, 303, 307, 308]) {
      receiver.answer = (response) => response.writeHead(status, { location: receiver.address('/elsewhere') }).end();
      const before = receiver.received.length;
      const result = await send();
      assert.equal(result.statusCode, status);
      assert.equal(result.responseHeaders.location, receiver.address('/elsewhere'));
      assert.equal(receiver.received.length - before, 1, `${status}: one request only`);
    }
  });
  assert.ok(!receiver.received.some((r) => r.path === '/elsewhere'));
});

test('durationMs spans the request and the response body', async () => {
  receiver.answer = (response) => {
    response.writeHead(200).write('first');
    setTimeout(() => response.end(' last'), 150);
  };
  await withClient({}, async (send) => {
    const result = await send();
    assert.equal(result.responseBody, 'first last');
    assert.ok(result.durationMs >= 145 && result.durationMs < 1000, `${result.durationMs} ms`);
  });
});

test('a timeout while waiting for the answer is a timeout, on time', async () => {
  receiver.answer = () => undefined; // never answers
  await withClient({}, async (send) => {
    const result = await send({ timeoutMs: 300 });
    assert.equal(result.errorKind, 'timeout');
    assert.equal(result.error, 'timed out after 300 ms');
    assert.equal(result.statusCode, null);
    assert.ok(result.durationMs >= 295 && result.durationMs < 450, `${result.durationMs} ms`);
  });
});

test('the timeout covers the body too; what arrived before it is kept', async () => {
  receiver.answer = (response) => response.writeHead(200).write('half a bo'); // and never ends
  await withClient({}, async (send) => {
    const result = await send({ timeoutMs: 300 });
    assert.deepEqual([result.errorKind, result.statusCode, result.responseBody], ['timeout', 200, 'half a bo']);
    assert.ok(result.durationMs >= 295 && result.durationMs < 450, `${result.durationMs} ms`);
  });
});

test('aborting the signal ends the request at once, says why, and the receiver sees the connection close', async () => {
  let serverSawClose: Promise<number> | undefined;
  receiver.answer = (response) => void (serverSawClose = closeOf(response));
  await withClient({}, async (send) => {
    const lock = new AbortController();
    const sending = send({ timeoutMs: 10_000, signal: lock.signal });
    while (!serverSawClose) await sleep(5); // the request is at the receiver
    const abortedAt = performance.now();
    lock.abort(new Error('lock on rcv_x lost: deadline'));
    const result = await sending;
    const settledIn = performance.now() - abortedAt;
    assert.equal(result.errorKind, 'aborted');
    assert.equal(result.error, 'aborted: lock on rcv_x lost: deadline');
    assert.equal(result.statusCode, null);
    assert.ok(settledIn <= 20, `settled ${settledIn.toFixed(1)} ms after the abort`);
    const closedIn = (await serverSawClose) - abortedAt;
    assert.ok(closedIn >= 0 && closedIn < 100, `receiver saw the close ${closedIn.toFixed(1)} ms after the abort`);
  });
});

test('an abort while the body streams is an abort too, not a timeout', async () => {
  receiver.answer = (response) => response.writeHead(200).write('partial');
  await withClient({}, async (send) => {
    const lock = new AbortController();
    setTimeout(() => lock.abort(new Error('lock lost')), 100);
    const result = await send({ timeoutMs: 150, signal: lock.signal });
    assert.deepEqual([result.errorKind, result.error, result.statusCode, result.responseBody], ['aborted', 'aborted: lock lost', 200, 'partial']);
  });
});

test('a signal aborted before the send sends nothing at all', async () => {
  const lock = new AbortController();
  lock.abort(new Error('lock on rcv_y lost: fenced'));
  const [sockets, requests] = [receiver.connections, receiver.received.length];
  await withClient({}, async (send) => {
    const result = await send({ signal: lock.signal });
    assert.deepEqual([result.errorKind, result.error], ['aborted', 'aborted: lock on rcv_y lost: fenced']);
  });
  assert.deepEqual([receiver.connections, receiver.received.length], [sockets, requests]);
});

test('a 5 MB answer: only maxResponseBytes are kept and the connection is cut, not read to the end', async () => {
  let socketClosed: Promise<void> | undefined;
  receiver.answer = (response, request) => {
    socketClosed = new Promise((resolve) => request.socket.once('close', () => resolve()));
    void stream(response, 5 * 1024 * 1024);
  };
  await withClient({}, async (send) => {
    const result = await send();
    assert.equal(result.statusCode, 200);
    assert.equal(result.responseBody.length, 65536, 'the default bound');
    assert.match(result.responseBody, /^x+$/);
    await socketClosed;
    receiver.answer = (response) => response.end('next');
    assert.equal((await send()).responseBody, 'next', 'the client goes on with a new connection');
  });
  await withClient({ maxResponseBytes: 1000 }, async (send) => {
    receiver.answer = (response) => void stream(response, 5 * 1024 * 1024);
    assert.equal((await send()).responseBody.length, 1000);
  });
});

test('a modest remainder past maxResponseBytes is drained so the connection is reused', async () => {
  receiver.answer = (response) => response.end('y'.repeat(40 * 1024));
  await withClient({ maxResponseBytes: 1000 }, async (send) => {
    const before = receiver.connections;
    for (let i = 0; i < 3; i++) assert.equal((await send()).responseBody, 'y'.repeat(1000));
    assert.equal(receiver.connections - before, 1);
  });
});

test('stored response headers are bounded; a huge one does not crowd out the rest', async () => {
  receiver.answer = (response) => response.writeHead(200, { 'x-huge': 'h'.repeat(4000), 'x-small': 's', 'retry-after': '3' }).end();
  await withClient({ maxResponseHeaderBytes: 200 }, async (send) => {
    const result = await send();
    assert.equal(result.responseHeaders['x-huge'], undefined);
    assert.equal(result.responseHeaders['x-small'], 's');
    const stored = Object.entries(result.responseHeaders).reduce((size, [name, value]) => size + name.length + value.length, 0);
    assert.ok(stored <= 200, `${stored} bytes stored`);
    assert.equal(result.retryAfterMs, 3000, 'Retry-After is read from the full headers');
  });
});

test('Retry-After: delay-seconds or an HTTP-date, anything else ignored', async () => {
  const inAMinute = parseRetryAfter(new Date(Date.now() + 60_000).toUTCString()) ?? 0;
  assert.ok(inAMinute > 58_000 && inAMinute <= 60_000, String(inAMinute));
  const cases: [string | string[] | undefined, number | null][] = [
    ['120', 120_000],
    [' 5 ', 5000],
    ['0', 0],
    ['1.5', 1500],
    [['7', '8'], 7000],
    ['Wed, 21 Oct 2015 07:28:00 GMT', 0],
    ['Sunday, 06-Nov-94 08:49:37 GMT', 0],
    ['Sun Nov  6 08:49:37 1994', 0], // dates in the past
    ['soon', null],
    ['-5', null],
    ['2024-01-01', null],
    ['1e3', null],
    ['', null],
    [undefined, null],
  ];
  for (const [value, expected] of cases) assert.equal(parseRetryAfter(value), expected, String(value));

  await withClient({}, async (send) => {
    receiver.answer = (response) => response.writeHead(429, { 'retry-after': '7' }).end();
    assert.equal((await send()).retryAfterMs, 7000);
    receiver.answer = (response) => response.writeHead(503, { 'retry-after': new Date(Date.now() + 30_000).toUTCString() }).end();
    const dated = (await send()).retryAfterMs ?? 0;
    assert.ok(dated > 28_000 && dated <= 30_000, String(dated));
    receiver.answer = (response) => response.writeHead(500).end();
    assert.equal((await send()).retryAfterMs, null);
  });
});

test('a freeze after the write step checked the lock sends nothing: the socket write checks again', async () => {
  const requests = receiver.received.length;
  await withClient({}, async (send) => {
    assert.equal((await send()).statusCode, 200); // a kept-alive connection: the next request goes out on it
    const lock = new AbortController();
    const deadline = performance.now() + 50;
    let checks = 0;
    // as the lock's isHeld(): past the deadline it loses the lock (aborting its signal) and says so
    const mayWrite = (): string | null => {
      checks++;
      if (performance.now() >= deadline) {
        lock.abort(new Error('lock on rcv_z lost: deadline'));
        return 'lock on rcv_z lost';
      }
      while (performance.now() < deadline); // frozen right after the check passed, before undici writes
      return null;
    };
    const result = await send({ signal: lock.signal, mayWrite });
    assert.equal(checks, 2, 'checked in the write step, then at the socket write');
    assert.deepEqual([result.errorKind, result.error, result.statusCode], ['aborted', 'aborted: lock on rcv_z lost: deadline', null]);
    assert.equal((await send()).statusCode, 200, 'the next request goes out (on a new connection)');
  });
  assert.equal(receiver.received.length - requests, 2, 'nothing of the frozen request arrived');
});

test('keep-alive: twenty sequential requests use one connection', async () => {
  await withClient({}, async (send) => {
    const before = receiver.connections;
    for (let i = 0; i < 20; i++) assert.equal((await send()).statusCode, 200);
    assert.equal(receiver.connections - before, 1);
  });
});

test('receivers sharing an origin do not queue behind each other unless connections says so', async () => {
  receiver.answer = (response) => void setTimeout(() => response.end(), 150);
  for (const [connections, sockets] of [
    [undefined, 3],
    [1, 1],
  ] as const) {
    await withClient({ connections }, async (send) => {
      const before = receiver.connections;
      const started = performance.now();
      await Promise.all([send(), send(), send()]);
      const took = performance.now() - started;
      assert.equal(receiver.connections - before, sockets, `connections ${connections}`);
      assert.ok(sockets === 3 ? took < 400 : took >= 440, `connections ${connections}: ${took.toFixed(0)} ms`);
    });
  }
});
