import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Resolver } from '../../src/delivery/client.js';
import type { Message } from '../../src/shapes/messages.js';
import { guardOff, guardOn, useClientReceiver } from '../support/delivery-client.js';
import { ApiClient, LockstepProcess, waitFor } from '../support/lockstep.js';
import { TestReceiver } from '../support/receiver.js';
import { RedisServer } from '../support/redis.js';
import { Tinyproxy } from '../support/tinyproxy.js';

/** The CONNECT requests tinyproxy logged, e.g. "127.0.0.1:41234". */
const connects = (proxy: Tinyproxy): string[] =>
  [...readFileSync(proxy.log, 'utf8').matchAll(/Request \(file descriptor \d+\): CONNECT (\S+) HTTP/g)].map((match) => match[1] ?? '');

/** Raw mode for `receiver`: answer 200, and note where each request came from (its source address) in `sources`. */
function recordSources(receiver: TestReceiver, sources: string[]): void {
  receiver.answer = (response, request) => {
    sources.push(request.socket.remoteAddress ?? '');
    response.end();
  };
}

describe('the delivery client through a real tinyproxy (LOCKSTEP_EGRESS_PROXY)', () => {
  const harness = useClientReceiver();
  let receiver: TestReceiver;
  let proxy: Tinyproxy;
  /** Where each request the receiver answered came from. */
  const sources: string[] = [];
  before(async () => {
    receiver = harness.receiver();
    proxy = await Tinyproxy.start();
  });
  after(() => proxy?.destroy());

  test('a delivery goes through the proxy, CONNECTed to the checked address, the name kept in Host', async () => {
    recordSources(receiver, sources);
    const resolve: Resolver = () => Promise.resolve([{ address: '127.0.0.1', family: 4 }]);
    await harness.withClient({ guard: guardOff, proxy: proxy.url, resolve }, async (send) => {
      const result = await send({ url: receiver.address('/hook', 'receiver.test') });
      assert.equal(result.statusCode, 200, result.error ?? '');
    });
    assert.deepEqual(sources, [proxy.bindAddress], "the receiver saw the proxy's egress address");
    assert.equal(receiver.received.at(-1)?.headers.host, `receiver.test:${receiver.port}`);
    assert.deepEqual(connects(proxy).slice(-1), [`127.0.0.1:${receiver.port}`], 'the proxy was given the address, never the name');
  });

  test('the address guard still refuses a blocked address, by literal and by name, before any CONNECT', async () => {
    const before = connects(proxy).length;
    const received = receiver.received.length;
    const resolve: Resolver = () => Promise.resolve([{ address: '127.0.0.1', family: 4 }]);
    await harness.withClient({ guard: guardOn, proxy: proxy.url, resolve }, async (send) => {
      const literal = await send({ url: receiver.address('/hook', '127.0.0.1') });
      assert.equal(literal.errorKind, 'blocked-address');
      assert.match(literal.error ?? '', /address 127\.0\.0\.1 is blocked \(loopback\)/);
      const named = await send({ url: receiver.address('/hook', 'rebind.test') });
      assert.equal(named.errorKind, 'blocked-address');
      assert.match(named.error ?? '', /^rebind\.test resolves to blocked addresses only: 127\.0\.0\.1 \(loopback\)/);
    });
    assert.equal(connects(proxy).length, before, 'the proxy was never asked');
    assert.equal(receiver.received.length, received);
  });

  test('the proxy down is a failed attempt (network error); delivery works again once it is back', async () => {
    recordSources(receiver, sources);
    await harness.withClient({ guard: guardOff, proxy: proxy.url }, async (send) => {
      await proxy.stop();
      const down = await send();
      assert.equal(down.errorKind, 'network');
      assert.equal(down.statusCode, null);
      assert.match(down.error ?? '', new RegExp(`ECONNREFUSED 127\\.0\\.0\\.1:${proxy.port}`));
      await proxy.start();
      const back = await send();
      assert.equal(back.statusCode, 200, back.error ?? '');
    });
    assert.equal(sources.at(-1), proxy.bindAddress);
  });
});

/** An https receiver on 127.0.0.1 with a self-signed certificate for `localhost` (openssl), noting each request's source address and TLS server name. */
async function httpsReceiver(): Promise<{ url: string; ca: string; seen: { source: string; servername: string }[]; close: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'lockstep-tls-'));
  const [key, cert] = [join(dir, 'key.pem'), join(dir, 'cert.pem')];
  const made = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost',
    ],
    { encoding: 'utf8' },
  );
  assert.equal(made.status, 0, made.stderr);
  const seen: { source: string; servername: string }[] = [];
  const server: Server = createServer({ key: readFileSync(key), cert: readFileSync(cert) }, (request, response) => {
    const socket = request.socket as typeof request.socket & { servername?: string };
    seen.push({ source: socket.remoteAddress ?? '', servername: socket.servername ?? '' });
    request.resume().on('end', () => response.end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const close = async (): Promise<void> => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  };
  return { url: `https://localhost:${(server.address() as AddressInfo).port}/hook`, ca: cert, seen, close };
}

describe('Lockstep with LOCKSTEP_EGRESS_PROXY, real processes', () => {
  let redis: RedisServer;
  let receiver: TestReceiver;
  let proxy: Tinyproxy;
  let lockstep: LockstepProcess;
  let api: ApiClient;
  let tls: Awaited<ReturnType<typeof httpsReceiver>>;
  const sources: string[] = [];
  before(async () => {
    [redis, receiver, proxy, tls] = await Promise.all([RedisServer.start(), TestReceiver.start(), Tinyproxy.start(), httpsReceiver()]);
    recordSources(receiver, sources);
    lockstep = await LockstepProcess.start('all', {
      NODE_EXTRA_CA_CERTS: tls.ca, // trusts the https receiver's self-signed certificate
      LOCKSTEP_REDIS_URL: redis.url,
      LOCKSTEP_EGRESS_PROXY: proxy.url,
      LOCKSTEP_RETRY_SCHEDULE: '0.3,0.3,0.3,0.3,0.3,0.3,0.3,0.3,0.3,0.3',
    });
    api = new ApiClient(lockstep.url ?? '');
  });
  after(async () => {
    await lockstep?.stop();
    await Promise.all([receiver?.close(), proxy?.destroy(), redis?.destroy(), tls?.close()]);
  });

  const statusOf = async (id: string): Promise<Message['deliveries'][number] | undefined> => (await api.message(id)).deliveries[0];

  test('deliveries arrive from the egress address; with the proxy down they fail and are retried until it is back', async () => {
    await api.createReceiver({ url: receiver.address('/hook'), eventTypes: ['egress.*'] });
    const first = await api.post('egress.one', {});
    await waitFor('the first delivery', async () => (await statusOf(first.id))?.status === 'delivered');
    assert.deepEqual(sources, [proxy.bindAddress]);

    await proxy.stop();
    const second = await api.post('egress.two', {});
    await waitFor('two failed attempts', async () => ((await statusOf(second.id))?.attempts.length ?? 0) >= 2);
    const failed = await statusOf(second.id);
    assert.equal(failed?.status, 'retrying');
    assert.match(failed?.attempts[0]?.error ?? '', /ECONNREFUSED/);
    await proxy.start();
    await waitFor('the retried delivery', async () => (await statusOf(second.id))?.status === 'delivered');
    assert.deepEqual(sources, [proxy.bindAddress, proxy.bindAddress], 'nothing went around the proxy');
  });

  test('https through the tunnel: CONNECT to the checked address, TLS to the name (SNI, certificate)', async () => {
    await api.createReceiver({ url: tls.url, eventTypes: ['secure.*'] });
    const message = await api.post('secure.one', {});
    await waitFor('the https delivery', async () => (await statusOf(message.id))?.status === 'delivered');
    assert.deepEqual(tls.seen, [{ source: proxy.bindAddress, servername: 'localhost' }]);
    assert.ok(connects(proxy).includes(`127.0.0.1:${new URL(tls.url).port}`), 'the proxy was given the address');
  });
});
