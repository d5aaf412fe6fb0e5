import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { after, afterEach, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { isLockstepError } from '../../src/errors.js';
import type { HeldLock, LockLostError, ReceiverLocks } from '../../src/locks/types.js';
import { createLocks, startLockService, type LockClientSpec, type LockService, type LockServiceName } from '../support/lock-services.js';
import { freePort, waitFor } from '../support/ports.js';
import { TcpProxy } from '../support/tcp-proxy.js';

/**
 * The one contract every lock backend meets, run against real servers on free ports: Redis, etcd,
 * the Consul test double, and a real Consul agent when LOCKSTEP_CONSUL_ADDR is set. Each client
 * is its own backend instance, so its own session; holders that get frozen or killed are child
 * processes (test/support/lock-holder.ts).
 *
 *   node --import tsx --test test/locks/contract.test.ts
 */
const realConsul = Boolean(process.env.LOCKSTEP_CONSUL_ADDR);
if (!realConsul) {
  console.warn('\n⚠ SKIPPED: real Consul contract tests — set LOCKSTEP_CONSUL_ADDR to run them (only the Consul TEST DOUBLE ran).\n');
}

for (const name of ['redis', 'redis-sharded', 'etcd', 'consul-double', 'consul'] as LockServiceName[]) {
  const skip = name === 'consul' && !realConsul ? '⚠ real Consul NOT tested: set LOCKSTEP_CONSUL_ADDR' : false;

  describe(`lock contract: ${name}`, { skip }, () => {
    let service: LockService;
    const prefix = `lockstep-contract-${process.pid}-${name}`;
    let clients: ReceiverLocks[] = [];
    let holders: HolderProcess[] = [];
    const client = async (emitterId: string, port?: number): Promise<ReceiverLocks> => {
      const locks = createLocks(service.spec(prefix, port), emitterId);
      clients.push(locks);
      await locks.start();
      return locks;
    };
    const holderProcess = (receiverId: string): HolderProcess => {
      const holder = new HolderProcess(service.spec(prefix), receiverId);
      holders.push(holder);
      return holder;
    };

    before(async () => {
      service = await startLockService(name);
    });
    afterEach(async () => {
      for (const holder of holders) holder.child.kill('SIGKILL'); // also ends a SIGSTOPped one
      await Promise.all(clients.map((locks) => locks.close().catch(() => {})));
      [clients, holders] = [[], []];
    });
    after(async () => {
      await service?.destroy();
    });

    test('mutual exclusion under 50 concurrent contenders, each with its own session; fences strictly increase', async (t) => {
      const contenders = await Promise.all(Array.from({ length: 50 }, (_, i) => client(`contender-${i}`)));
      let inside = 0;
      let overlaps = 0;
      const fences: number[] = [];
      const startedAt = Date.now();
      await Promise.all(
        contenders.map(async (locks) => {
          const lock = await locks.acquire('rcv_contended', { waitMs: 60_000 });
          assert.ok(lock, 'every contender gets its turn');
          if (++inside > 1) overlaps++;
          fences.push(lock.fence);
          await sleep(2);
          assert.ok(lock.isHeld(), 'still held after 2 ms');
          inside--;
          await locks.release(lock);
        }),
      );
      t.diagnostic(`${name}: 50 contenders each held the lock once in ${Date.now() - startedAt} ms; ${overlaps} overlaps`);
      assert.equal(overlaps, 0, 'never two holders at once');
      assert.equal(fences.length, 50);
      for (let i = 1; i < fences.length; i++) assert.ok((fences[i] as number) > (fences[i - 1] as number), `fence ${fences[i]} after ${fences[i - 1]}`);
    });

    test('a release hands the lock to a waiting client at once, not at the next poll', async (t) => {
      const pair = [await client('first'), await client('second')] as const;
      const handovers: number[] = [];
      let lastFence = 0;
      for (let round = 0; round < 5; round++) {
        const [holder, waiter] = round % 2 === 0 ? pair : [pair[1], pair[0]];
        const held = await holder.acquire('rcv_handover', { waitMs: 5000 });
        assert.ok(held && held.fence > lastFence);
        assert.equal(await waiter.acquire('rcv_handover', { waitMs: 0 }), null, 'busy while held');
        const waiting = waiter.acquire('rcv_handover', { waitMs: 5000 });
        await sleep(100 + round * 37); // a different phase against any poll timer each round
        const releasedAt = Date.now();
        await holder.release(held);
        const next = await waiting;
        handovers.push(Date.now() - releasedAt);
        assert.ok(next && next.fence > held.fence, 'the waiter got it, with a larger fence');
        assert.ok(held.lost.aborted && !held.isHeld(), 'a released lock reads as lost');
        await waiter.release(next);
        lastFence = next.fence;
      }
      const median = [...handovers].sort((a, b) => a - b)[2] as number;
      t.diagnostic(
        `${name}: release → waiter holds it: ${handovers.join(', ')} ms, median ${median} ms (woken only by its poll, a waiter would wait up to 250 ms on Redis, 2 s on etcd and Consul)`,
      );
      // woken only by its poll, a waiter would take 0–250 ms or more, spread over the rounds' phases: a median ≥ ~75 ms
      assert.ok(median < 50, `handovers ${handovers.join(', ')} ms`);
    });

    test('a service that cannot be reached: start() fails with a LockstepError that keeps the library error as its cause', async () => {
      const locks = createLocks(service.spec(prefix, await freePort()), 'unreachable');
      clients.push(locks);
      const error = await locks.start().then(
        () => undefined,
        (reason: unknown) => reason,
      );
      assert.ok(isLockstepError(error), String(error));
      // Redis as the lock service: unreachable is said as for the store
      assert.equal(error.code, service.backend === 'redis' ? 'LOCKSTEP_REDIS_UNAVAILABLE' : 'LOCKSTEP_LOCK_BACKEND');
      assert.ok(error.cause instanceof Error, 'the cause is kept');
    });

    test('a holder cut off from the service sees `lost` before anyone else can take the lock', async (t) => {
      const proxy = await TcpProxy.start(service.port);
      try {
        const cutOff = await client('cut-off', proxy.port);
        const other = await client('other');
        const held = await cutOff.acquire('rcv_partition', { waitMs: 0 });
        assert.ok(held);
        let lostAt = 0;
        held.lost.addEventListener('abort', () => (lostAt = Date.now()));
        const cutAt = Date.now();
        const cutAtMonotonic = performance.now(); // deadlines are on the monotonic clock
        proxy.blackhole(); // connections stay open, nothing flows: requests neither fail nor answer
        const taken = await other.acquire('rcv_partition', { waitMs: service.handsOverWithinMs + 5000 });
        const takenAt = Date.now();
        assert.ok(taken, 'the other client gets the lock once the service lets go');
        t.diagnostic(
          `${name}: cut at 0 ms; holder lost at ${lostAt - cutAt} ms (its deadline ${Math.round(held.deadline() - cutAtMonotonic)} ms); other acquired at ${takenAt - cutAt} ms`,
        );
        assert.ok(lostAt > 0 && lostAt < takenAt, 'lost fired before the other client got in');
        assert.ok(taken.fence > held.fence);
      } finally {
        await proxy.close();
      }
    });

    test('a frozen holder (SIGSTOP) is past its own deadline before anyone else gets the lock, and sees `lost` on waking', async (t) => {
      const holder = holderProcess('rcv_frozen');
      const [, fence] = await holder.line(/^held (\d+) \d+$/);
      const waiter = await client('waiter');
      holder.child.kill('SIGSTOP');
      const frozenAt = Date.now();
      const taken = await waiter.acquire('rcv_frozen', { waitMs: service.handsOverWithinMs + 5000 });
      const takenAt = Date.now();
      assert.ok(taken, 'the waiter gets the lock once the service lets go');
      assert.ok(taken.fence > Number(fence));
      // nothing is printed while frozen, so this is the last deadline the holder knew of
      const deadline = holder.lastDeadline();
      assert.ok(deadline < takenAt, `the holder's deadline (${deadline - frozenAt} ms) passed before the waiter got in (${takenAt - frozenAt} ms)`);
      holder.child.kill('SIGCONT');
      const wokeAt = Date.now();
      const [, cause, at] = await holder.line(/^lost (\S+) (\d+)$/, 5000);
      t.diagnostic(
        `${name}: frozen at 0 ms; holder's deadline ${deadline - frozenAt} ms; waiter acquired at ${takenAt - frozenAt} ms; holder woke and saw lost (${cause}) ${Number(at) - wokeAt} ms after SIGCONT`,
      );
      assert.ok(Number(at) - wokeAt < 1000, 'the woken holder notices at once');
    });

    test("after the holder process is killed (kill -9), a waiter gets the lock within the service's hand-over time + 1 s", async (t) => {
      const holder = holderProcess('rcv_crash');
      const [, fence] = await holder.line(/^held (\d+) \d+$/);
      const waiter = await client('waiter');
      const waiting = waiter.acquire('rcv_crash', { waitMs: service.handsOverWithinMs + 5000 });
      await sleep(50);
      holder.child.kill('SIGKILL');
      const killedAt = Date.now();
      const lock = await waiting;
      const failover = Date.now() - killedAt;
      t.diagnostic(
        `${name}: failover ${failover} ms after kill -9 (lock TTL ${service.ttlMs} ms, the service hands over within ${service.handsOverWithinMs} ms)`,
      );
      assert.ok(lock, 'acquired after the crash');
      assert.ok(lock.fence > Number(fence));
      assert.ok(failover <= service.handsOverWithinMs + 1000, `failover took ${failover} ms`);
    });

    test("when the service ends the holder's hold behind its back, the holder sees `lost` and its next acquire works", async (t) => {
      const holder = await client('dropped');
      const held = await holder.acquire('rcv_dropped', { waitMs: 0 });
      assert.ok(held);
      const droppedAt = Date.now();
      await service.dropHolder(prefix, 'rcv_dropped'); // Redis: DEL the key; etcd: revoke its lease; Consul: destroy its session
      await waitFor('the holder to see `lost`', () => held.lost.aborted, service.ttlMs);
      const lostAfter = Date.now() - droppedAt;
      const cause = (held.lost.reason as LockLostError).reason;
      // etcd and Consul: the old lease/session is gone, so this also checks that a new one is taken at once
      const again = await holder.acquire('rcv_dropped', { waitMs: service.handsOverWithinMs });
      t.diagnostic(`${name}: dropped at 0 ms; holder lost (${cause}) at ${lostAfter} ms; it acquired again at ${Date.now() - droppedAt} ms`);
      assert.ok(again && again.isHeld() && again.fence > held.fence);
    });

    test('holders() lists who holds what; close() releases everything at once', async () => {
      const owner = createLocks(service.spec(prefix), 'closing-owner');
      await owner.start();
      const ids = ['rcv_c1', 'rcv_c2', 'rcv_c3'];
      const held: HeldLock[] = [];
      for (const id of ids) held.push((await owner.acquire(id, { waitMs: 0 })) as HeldLock);
      const observer = await client('observer');
      const listed = (await observer.holders()).filter((h) => ids.includes(h.receiverId));
      assert.deepEqual(
        listed.map((h) => [h.receiverId, h.emitterId, h.fence]),
        held.map((l) => [l.receiverId, 'closing-owner', l.fence]),
      );
      assert.ok(
        listed.every((h) => !Number.isNaN(Date.parse(h.since))),
        'since is a timestamp',
      );
      await owner.close();
      assert.ok(
        held.every((lock) => lock.lost.aborted),
        'close() loses every held lock',
      );
      assert.deepEqual(
        { ...owner.stats(), renewals: 0 },
        {
          acquireAttempts: 3,
          acquired: 3,
          releases: 3,
          renewals: 0,
          lost: { 'renewal-failed': 0, 'renewal-refused': 0, deadline: 0, stolen: 0, released: 0, shutdown: 0 },
        },
      );
      for (const id of ids) {
        const lock = await observer.acquire(id, { waitMs: 0 });
        assert.ok(lock, `${id} free right after close()`);
        await observer.release(lock);
      }
      assert.deepEqual(
        (await observer.holders()).filter((h) => ids.includes(h.receiverId)),
        [],
      );
      assert.equal(await observer.ping(), true);
    });
  });
}

/** A lock holder in a child process (test/support/lock-holder.ts), and what it printed. */
class HolderProcess {
  private static readonly script = fileURLToPath(new URL('../support/lock-holder.ts', import.meta.url));
  readonly child: ChildProcess;
  private output = '';

  constructor(spec: LockClientSpec, receiverId: string) {
    this.child = spawn(process.execPath, ['--import', 'tsx', HolderProcess.script, JSON.stringify(spec), receiverId], { stdio: ['ignore', 'pipe', 'inherit'] });
    this.child.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
  }

  /** Waits for a line matching `pattern` and returns its match. */
  async line(pattern: RegExp, timeoutMs = 15_000): Promise<RegExpExecArray> {
    let match: RegExpExecArray | undefined;
    await waitFor(`the holder to print ${pattern}`, () => Boolean((match = this.lines(pattern).at(-1))), timeoutMs);
    return match as RegExpExecArray;
  }

  /** The newest local deadline the holder printed (epoch ms). */
  lastDeadline(): number {
    return Number(this.lines(/^(?:held \d+|deadline) (\d+)$/).at(-1)?.[1]);
  }

  private lines(pattern: RegExp): RegExpExecArray[] {
    return this.output
      .split('\n')
      .map((line) => pattern.exec(line))
      .filter((match): match is RegExpExecArray => match !== null);
  }
}
