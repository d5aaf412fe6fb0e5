import assert from 'node:assert/strict';
import type { LookupAddress } from 'node:dns';
import { beforeEach, test } from 'node:test';
import { AddressGuard } from '../../src/delivery/address-guard.js';
import type { Resolver } from '../../src/delivery/client.js';
import { guardOff, guardOn, useClientReceiver } from '../support/delivery-client.js';
import { TestReceiver } from '../support/receiver.js';

/** The delivery client's address guard and connection errors, against a real local receiver. */
const harness = useClientReceiver();
const { withClient } = harness;
let receiver: TestReceiver;
beforeEach(() => (receiver = harness.receiver())); // top-level before hooks run together on Node 20: read it once they are done

test('guard on: loopback is refused before any connection, by IP literal in any spelling and by name', async () => {
  const [sockets, requests] = [receiver.connections, receiver.received.length];
  await withClient({ guard: guardOn }, async (send) => {
    for (const host of ['127.0.0.1', '2130706433', '0x7f.1', '[::1]', '[::ffff:127.0.0.1]']) {
      const result = await send({ url: receiver.address('/hook', host) });
      assert.equal(result.errorKind, 'blocked-address', host);
      assert.match(result.error ?? '', /is blocked \(loopback\); allow it with LOCKSTEP_ALLOW_CIDRS/, host);
      assert.equal(result.statusCode, null);
    }
    // A name is judged on what it resolves to, at connect time: what DNS rebinding would exploit.
    const named = await send({ url: receiver.address('/hook', 'localhost') });
    assert.equal(named.errorKind, 'blocked-address', named.error ?? '');
    assert.match(named.error ?? '', /^localhost resolves to blocked addresses only: .*\(loopback\)/);
  });
  assert.deepEqual([receiver.connections, receiver.received.length], [sockets, requests], 'the receiver saw no connection at all');
});

test('guard on: any name is judged on the addresses it resolves to at connect time, and only allowed ones are dialled', async () => {
  const asked: string[] = [];
  const answers: Record<string, LookupAddress[]> = {
    'rebind.test': [{ address: '127.0.0.1', family: 4 }], // what a rebinding DNS answers on the second query
    'mapped.test': [{ address: '::ffff:127.0.0.1', family: 6 }],
    'mixed.test': [
      { address: '::1', family: 6 },
      { address: '127.0.0.1', family: 4 },
    ],
    'empty.test': [],
  };
  const resolve: Resolver = (hostname) => (asked.push(hostname), Promise.resolve(answers[hostname] ?? []));
  const [sockets, requests] = [receiver.connections, receiver.received.length];
  await withClient({ guard: guardOn, resolve }, async (send) => {
    for (const host of ['rebind.test', 'mapped.test', 'mixed.test']) {
      const result = await send({ url: receiver.address('/hook', host) });
      assert.equal(result.errorKind, 'blocked-address', host);
      assert.ok(result.error?.startsWith(`${host} resolves to blocked addresses only: `), result.error ?? '');
      assert.match(result.error ?? '', /127\.0\.0\.1 \(loopback\)/);
    }
    const empty = await send({ url: receiver.address('/hook', 'empty.test') });
    assert.deepEqual([empty.errorKind, empty.error], ['network', 'ENOTFOUND: empty.test resolves to no address']);
  });
  assert.deepEqual(asked, ['rebind.test', 'mapped.test', 'mixed.test', 'empty.test']);
  assert.deepEqual([receiver.connections, receiver.received.length], [sockets, requests], 'the receiver saw no connection at all');

  // ::1 stays blocked, 127.0.0.1 is allowed: the socket goes to 127.0.0.1 only (the receiver listens on nothing else).
  const allowV4 = new AddressGuard({ allowPrivateNetworks: false, allowCidrs: ['127.0.0.1/32'] });
  await withClient({ guard: allowV4, resolve }, async (send) => {
    const result = await send({ url: receiver.address('/hook', 'mixed.test') });
    assert.equal(result.statusCode, 200, result.error ?? '');
  });
  assert.equal(receiver.received.at(-1)?.headers.host, `mixed.test:${receiver.port}`);
});

test('guard off delivers to loopback by IP and by name', async () => {
  await withClient({ guard: guardOff }, async (send) => {
    for (const host of ['127.0.0.1', 'localhost']) assert.equal((await send({ url: receiver.address('/hook', host) })).statusCode, 200, host);
  });
});

test('an allow-listed CIDR lets loopback through with the guard on', async () => {
  const guard = new AddressGuard({ allowPrivateNetworks: false, allowCidrs: ['127.0.0.0/8'] });
  receiver.answer = (response) => response.writeHead(204).end();
  await withClient({ guard }, async (send) => {
    for (const host of ['127.0.0.1', 'localhost']) assert.equal((await send({ url: receiver.address('/hook', host) })).statusCode, 204, host);
    assert.equal((await send({ url: receiver.address('/hook', '[::1]') })).errorKind, 'blocked-address', '::1 is not in the list');
  });
});

test('connection errors are network errors that name the cause', async () => {
  const spare = await TestReceiver.start();
  const port = spare.port;
  await spare.close(); // a port nobody listens on
  await withClient({}, async (send) => {
    const refused = await send({ url: `http://127.0.0.1:${port}/hook` });
    assert.deepEqual([refused.errorKind, refused.error, refused.statusCode], ['network', `ECONNREFUSED 127.0.0.1:${port}`, null]);

    receiver.answer = (response) => {
      response.writeHead(200, { 'content-length': '100' }).write('cut');
      setTimeout(() => response.socket?.destroy(), 20);
    };
    const reset = await send();
    assert.equal(reset.errorKind, 'network');
    assert.match(reset.error ?? '', /UND_ERR_SOCKET|ECONNRESET/);
    assert.deepEqual([reset.statusCode, reset.responseBody], [200, 'cut'], 'what arrived is kept');

    const invalid = await send({ url: 'not a url' });
    assert.equal(invalid.errorKind, 'network');
  });
});
