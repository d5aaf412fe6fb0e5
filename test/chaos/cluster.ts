import { SteppableClock } from '../support/faketime.js';
import { Fleet } from '../support/fleet.js';
import type { LockstepProcess } from '../support/lockstep.js';
import { type ProxyLink, type BlackholeMode } from '../support/tcp-proxy.js';
import { EMITTERS, type ChaosBackend } from './plan.js';

/** One emitter "host": its process (replaced on restart), its wall clock, its link to the lock service. */
export interface EmitterSlot {
  id: string;
  clock: SteppableClock;
  /** Every connection to the lock service goes through it (for Redis locks: to Redis itself). */
  proxy: ProxyLink;
  process: LockstepProcess | undefined;
  paused: boolean;
}

/**
 * The fleet a chaos run hits: one API, three emitters each behind a proxy of its own in front of
 * the lock service and under a wall clock of its own, and the fault operations on them. Reuses
 * `Fleet` (Redis, the lock service, the recording receiver, the API).
 */
export class ChaosCluster {
  /** Emitters that exited without being killed: always a finding. */
  readonly crashes: { emitterId: string; code: number | null; at: number; lastLogs: string[] }[] = [];

  private constructor(
    readonly fleet: Fleet,
    readonly backend: ChaosBackend,
    readonly slots: EmitterSlot[],
  ) {}

  static async start(backend: ChaosBackend, env: Record<string, string>): Promise<ChaosCluster> {
    const fleet = await Fleet.start(0, env, backend);
    const slots: EmitterSlot[] = [];
    for (let i = 0; i < EMITTERS; i++)
      slots.push({
        id: `emitter-${i + 1}`,
        clock: new SteppableClock(),
        proxy: await fleet.lockServer.link(),
        process: undefined,
        paused: false,
      });
    const cluster = new ChaosCluster(fleet, backend, slots);
    for (const slot of slots) await cluster.startEmitter(slot);
    return cluster;
  }

  slot(index: number): EmitterSlot {
    const slot = this.slots[index];
    if (!slot) throw new Error(`no emitter #${index}`);
    return slot;
  }

  /** Starts the slot's emitter, trying again while Redis or the lock service is down (a restart fault may be under way). */
  async startEmitter(slot: EmitterSlot, giveUpAfterMs = 60_000): Promise<number> {
    const giveUpAt = Date.now() + giveUpAfterMs;
    for (let tries = 1; ; tries++) {
      try {
        const started = await this.fleet.addEmitter(slot.id, { ...slot.proxy.env, ...slot.clock.env() });
        slot.process = started;
        void started.exited.then((code) => {
          if (slot.process !== started) return; // killed on purpose (kill() forgets it first), or stopped at the end
          slot.process = undefined;
          this.crashes.push({ emitterId: slot.id, code, at: Date.now(), lastLogs: started.logs.slice(-40) });
        });
        return tries;
      } catch (error) {
        if (Date.now() > giveUpAt) throw error;
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
    }
  }

  kill(slot: EmitterSlot): void {
    slot.process?.kill('SIGKILL');
    slot.process = undefined;
  }

  /** SIGSTOPs the slot's emitter; false when it has none running (killed, not restarted yet). */
  pause(slot: EmitterSlot): boolean {
    if (!slot.process) return false;
    slot.process.pause();
    slot.paused = true;
    return true;
  }

  resume(slot: EmitterSlot): void {
    slot.process?.resume();
    slot.paused = false;
  }

  partition(slot: EmitterSlot, mode: BlackholeMode): void {
    slot.proxy.blackhole(mode);
  }

  heal(slot: EmitterSlot): void {
    slot.proxy.restore();
  }

  /** etcd: SIGTERM, down for `downMs`, started again on the same port and data. */
  async restartLockService(downMs: number): Promise<void> {
    await this.fleet.lockServer.stop();
    await new Promise((resolve) => setTimeout(resolve, downMs));
    await this.fleet.lockServer.start();
  }

  /** Redis (AOF on): SIGTERM (it flushes its AOF), down for `downMs`, started again on the same port and data. */
  async restartRedis(downMs: number): Promise<void> {
    await this.fleet.redis.stop();
    await new Promise((resolve) => setTimeout(resolve, downMs));
    await this.fleet.redis.start();
  }

  /** Ends every fault still in force: links healed, processes thawed and running, clocks back to true time. */
  async healAll(): Promise<void> {
    for (const slot of this.slots) {
      if (slot.proxy.isBlackholed) this.heal(slot);
      if (slot.paused) this.resume(slot);
      slot.clock.set(0);
      if (!slot.process) await this.startEmitter(slot);
    }
  }

  async stop(): Promise<void> {
    for (const slot of this.slots) {
      slot.process?.resume();
      slot.process = undefined; // from here on, an exit is ours
    }
    await this.fleet.stop();
    for (const slot of this.slots) {
      await slot.proxy.close();
      slot.clock.destroy();
    }
  }
}
