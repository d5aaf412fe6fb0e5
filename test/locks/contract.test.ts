import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import type { HeldLock, ReceiverLocks } from '../../src/locks/types.js';
import { createLocks, startLockService, type LockService, type LockServiceName } from '../support/lock-services.js';
import { waitFor } from '../support/ports.js';
import { TcpProxy } from '../support/tcp-proxy.js';

/**
 * The one contract every lock backend meets, run against real servers started on free ports:
 * Redis, etcd, the Consul test double, and a real Consul agent when LOCKSTEP_CONSUL_ADDR is set.
 */
const HOLDER = fileURLToPath(new URL('../support/lock-holder.ts', import.meta.url));
const realConsul = Boolean(process.env.LOCKSTEP_CONSUL_ADDR);
if (!realConsul) {
  console.warn('\n⚠⚠⚠ SKIPPED: lock contract against a REAL Consul agent. Set LOCKSTEP_CONSUL_ADDR=http://host:8500 to run it (the Consul test double ran instead). ⚠⚠⚠\n');
}

for (const name of ['redis', 'etcd', 'consul-double', 'consul'] as LockServiceName[]) {
  describe(`lock contract: ${name}`, { skip: name === 'consul' && !realConsul ? 'no LOCKSTEP_CONSUL_ADDR: real Consul not tested' : false }, () => {
    let service: LockService;
    let TTL_MS = 0;
    const prefix = `lockstep-contract-${process.pid}`;
    const clients: ReceiverLocks[] = [];
    const client = async (emitterId: string, address = service.address()): Promise<ReceiverLocks> => {
      const locks = createLocks(service.backend, address, emitterId, TTL_MS, prefix);
      await locks.start();
      clients.push(locks);
      return locks;
    };

    before(async () => {
      service = await startLockService(name);
      TTL_MS = service.ttlMs;
    });
    after(async () => {
      await Promise.all(clients.map((locks) => locks.close().catch(() => {})));
      await service?.destroy();
    });

    test('mutual exclusion under 50 concurrent contenders, with strictly increasing fences', async () => {
      const contenders = await Promise.all(Array.from({ length: 50 }, (_, i) => client(`contender-${i}`)));
      let inside = 0;
      let overlaps = 0;
      const fences: number[] = [];
      await Promise.all(contenders.map(async (locks) => {
        const lock = await locks.acquire('rcv_contended', { waitMs: 30_000 });
        assert.ok(lock, 'every contender gets its turn');
        if (++inside > 1) overlaps++;
        fences.push(lock.fence);
        await new Promise((resolve) => setTimeout(resolve, 2));
        inside--;
        await locks.release(lock);
      }));
      assert.equal(overlaps, 0);
      assert.equal(fences.length, 50);
      for (let i = 1; i < fences.length; i++) assert.ok((fences[i] as number) > (fences[i - 1] as number), `fence ${fences[i]} after ${fences[i - 1]}`);
    });

    test('a release lets a waiter in quickly', async (t) => {
      const [first, second] = [await client('first'), await client('second')];
      const held = await first.acquire('rcv_handover', { waitMs: 0 });
      assert.ok(held);
      assert.equal(await second.acquire('rcv_handover', { waitMs: 0 }), null, 'busy while held');
      const waiting = second.acquire('rcv_handover', { waitMs: 5000 });
      await new Promise((resolve) => setTimeout(resolve, 100));
      const releasedAt = Date.now();
      await first.release(held);
      const next = await waiting;
      const handover = Date.now() - releasedAt;
      t.diagnostic(`${name}: waiter got the lock ${handover} ms after the release`);
      assert.ok(next && next.fence > held.fence);
      assert.ok(handover < 200, `handover took ${handover} ms`);
      assert.ok(held.lost.aborted, 'a released lock reads as lost');
      await second.release(next);
    });

    test('a holder cut off from the service sees `lost` before anyone else can acquire', async (t) => {
      const proxy = await TcpProxy.start(service.port);
      try {
        const cutOff = await client('cut-off', service.address(proxy.port));
        const other = await client('other');
        const held = await cutOff.acquire('rcv_partition', { waitMs: 0 });
        assert.ok(held);
        let lostAt = 0;
        held.lost.addEventListener('abort', () => (lostAt = Date.now()));
        const cutAt = Date.now();
        proxy.blackhole();
        const taken = await other.acquire('rcv_partition', { waitMs: TTL_MS * 3 + service.expiryLateMs });
        const takenAt = Date.now();
        assert.ok(taken, 'the other client gets the lock once the server lets go');
        t.diagnostic(`${name}: cut at 0 ms, holder lost at ${lostAt - cutAt} ms (deadline ${held.deadline() - cutAt} ms), other acquired at ${takenAt - cutAt} ms`);
        assert.ok(lostAt > 0 && lostAt < takenAt, 'lost fired before the other holder got in');
        assert.ok(taken.fence > held.fence);
        await other.release(taken);
      } finally {
        await proxy.close();
      }
    });

    test('a waiter gets the lock after the holder process is killed (kill -9), within TTL + 1 s', async (t) => {
      const holder = spawn(process.execPath, ['--import', 'tsx', HOLDER, service.backend, service.address(), 'rcv_crash', String(TTL_MS), prefix], { stdio: ['ignore', 'pipe', 'inherit'] });
      let output = '';
      holder.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      await waitFor('the child to hold the lock', () => output.includes('held'), 15_000);
      const waiter = await client('waiter');
      holder.kill('SIGKILL');
      const killedAt = Date.now();
      const lock = await waiter.acquire('rcv_crash', { waitMs: TTL_MS + service.expiryLateMs + 3000 });
      const failover = Date.now() - killedAt;
      t.diagnostic(`${name}: failover ${failover} ms after kill -9 (TTL ${TTL_MS} ms)`);
      assert.ok(lock, 'acquired after the crash');
      assert.ok(lock.fence > Number(/held (\d+)/.exec(output)?.[1]));
      assert.ok(failover <= TTL_MS + service.expiryLateMs + 1000, `failover took ${failover} ms`);
      await waiter.release(lock);
    });

    test('close() releases everything at once; holders() shows who holds what', async () => {
      const owner = createLocks(service.backend, service.address(), 'closing-owner', TTL_MS, prefix);
      await owner.start();
      const held: HeldLock[] = [];
      for (const id of ['rcv_c1', 'rcv_c2', 'rcv_c3']) held.push((await owner.acquire(id, { waitMs: 0 })) as HeldLock);
      const observer = await client('observer');
      const listed = (await observer.holders()).filter((h) => h.receiverId.startsWith('rcv_c'));
      assert.deepEqual(listed.map((h) => [h.receiverId, h.emitterId, h.fence]), held.map((l) => [l.receiverId, 'closing-owner', l.fence]));
      assert.ok(listed.every((h) => !Number.isNaN(Date.parse(h.since))));
      await owner.close();
      assert.ok(held.every((lock) => lock.lost.aborted));
      for (const id of ['rcv_c1', 'rcv_c2', 'rcv_c3']) {
        const lock = await observer.acquire(id, { waitMs: 0 });
        assert.ok(lock, `${id} free right after close()`);
        await observer.release(lock);
      }
      assert.deepEqual((await observer.holders()).filter((h) => h.receiverId.startsWith('rcv_c')), []);
      assert.equal(await observer.ping(), true);
    });
  });
}
