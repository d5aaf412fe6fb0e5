import type { ChaosCluster, EmitterSlot } from './cluster.js';
import type { PlannedFault } from './plan.js';

/** What happened, when (epoch ms), to whom: the log a failure is replayed and explained from. */
export interface FaultRecord {
  startedAt: number;
  endedAt?: number;
  fault: PlannedFault;
  target: string;
  error?: string;
}

/** A SIGSTOP window of one emitter (epoch ms), to tell the documented frozen-holder overlap apart. */
export interface PauseWindow {
  emitterId: string;
  from: number;
  to: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs a fault plan against a cluster. Faults on one target (an emitter, or the shared services)
 * run one after another, so a plan replays as the same sequence of operations per target; each
 * starts at its planned time or, if its target is still busy, as soon as it is free.
 */
export class FaultRunner {
  readonly records: FaultRecord[] = [];
  readonly pauses: PauseWindow[] = [];
  /** Every wall-clock step (epoch ms), per emitter, to say whose clock was off when something went wrong. */
  readonly clockSteps: { emitterId: string; at: number; offsetS: number }[] = [];
  private readonly chains = new Map<string, Promise<void>>();

  constructor(
    private readonly cluster: ChaosCluster,
    private readonly out: (line: string) => void,
    private readonly t0: number,
  ) {}

  /** Runs `plan` from `t0`; resolves when every fault, recovery included, has ended. */
  async run(plan: PlannedFault[]): Promise<void> {
    for (const fault of plan) {
      await sleep(Math.max(0, this.t0 + fault.at - Date.now()));
      const target = fault.emitter === undefined ? 'services' : this.cluster.slot(fault.emitter).id;
      const previous = this.chains.get(target) ?? Promise.resolve();
      this.chains.set(
        target,
        previous.then(() => this.apply(fault, target)),
      );
    }
    await Promise.all(this.chains.values());
  }

  /** `+12.345s` since the fault phase began. */
  stamp(at = Date.now()): string {
    return `+${((at - this.t0) / 1000).toFixed(3)}s`;
  }

  private async apply(fault: PlannedFault, target: string): Promise<void> {
    const record: FaultRecord = { startedAt: Date.now(), fault, target };
    this.records.push(record);
    const late = record.startedAt - (this.t0 + fault.at);
    this.out(`[${this.stamp(record.startedAt)}] ${describeFault(fault, target)}${late > 250 ? ` (${late} ms late: target busy)` : ''}`);
    try {
      await this.execute(fault, fault.emitter === undefined ? undefined : this.cluster.slot(fault.emitter));
    } catch (error) {
      record.error = error instanceof Error ? error.message : String(error);
      this.out(`[${this.stamp()}]   ${target}: fault failed: ${record.error}`);
    }
    record.endedAt = Date.now();
  }

  private async execute(fault: PlannedFault, slot: EmitterSlot | undefined): Promise<void> {
    const { cluster } = this;
    const duration = fault.durationMs ?? 0;
    if (fault.kind === 'restart-redis') return this.timed('redis back', () => cluster.restartRedis(duration));
    if (fault.kind === 'restart-lock-service') return this.timed('lock service back', () => cluster.restartLockService(duration));
    if (!slot) throw new Error(`${fault.kind} needs an emitter`);
    switch (fault.kind) {
      case 'kill-emitter': {
        cluster.kill(slot);
        await sleep(duration);
        const tries = await cluster.startEmitter(slot);
        this.out(`[${this.stamp()}]   ${slot.id} restarted${tries > 1 ? ` (after ${tries} tries)` : ''}`);
        return;
      }
      case 'pause-emitter': {
        const from = Date.now();
        const paused = cluster.pause(slot);
        await sleep(duration);
        cluster.resume(slot);
        // only a freeze that happened excuses an overlap (verdict.ts)
        if (paused) this.pauses.push({ emitterId: slot.id, from, to: Date.now() });
        this.out(`[${this.stamp()}]   ${slot.id} SIGCONT`);
        return;
      }
      case 'partition-emitter':
        cluster.partition(slot, fault.heal ?? 'reset');
        await sleep(duration);
        cluster.heal(slot);
        this.out(`[${this.stamp()}]   ${slot.id} link healed (${fault.heal})`);
        return;
      case 'step-clock':
        slot.clock.set(fault.offsetS ?? 0);
        this.clockSteps.push({ emitterId: slot.id, at: Date.now(), offsetS: fault.offsetS ?? 0 });
        return;
    }
  }

  private async timed(what: string, action: () => Promise<void>): Promise<void> {
    await action();
    this.out(`[${this.stamp()}]   ${what}`);
  }
}

export function describeFault(fault: PlannedFault, target: string): string {
  const ms = fault.durationMs ?? 0;
  switch (fault.kind) {
    case 'kill-emitter':
      return `kill -9 ${target}, restart after ${ms} ms`;
    case 'pause-emitter':
      return `SIGSTOP ${target} for ${ms} ms, then SIGCONT`;
    case 'partition-emitter':
      return `blackhole ${target}'s lock-service link for ${ms} ms, then heal (${fault.heal === 'hold' ? 'held bytes delivered late' : 'connections reset'})`;
    case 'restart-lock-service':
      return `restart the lock service (down ${ms} ms)`;
    case 'restart-redis':
      return `restart Redis, AOF on (down ${ms} ms)`;
    case 'step-clock':
      return `step ${target}'s wall clock by ${signed(fault.stepS ?? 0)} s (now ${signed(fault.offsetS ?? 0)} s off true time)`;
  }
}

function signed(n: number): string {
  return n > 0 ? `+${n}` : String(n);
}
