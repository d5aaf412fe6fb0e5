import { Prng } from './prng.js';

export type ChaosBackend = 'redis' | 'etcd' | 'consul-double';

export type FaultKind = 'kill-emitter' | 'pause-emitter' | 'partition-emitter' | 'restart-lock-service' | 'restart-redis' | 'step-clock';

/** One fault of the plan, fully decided by the seed before the run starts. */
export interface PlannedFault {
  /** Milliseconds after the fault phase began. */
  at: number;
  kind: FaultKind;
  /** Index of the emitter it hits (0-based), for emitter faults. */
  emitter?: number;
  /** How long the fault lasts: down time, pause, partition. */
  durationMs?: number;
  /** step-clock: the step, ±120 s, and the emitter's wall-clock offset after it. */
  stepS?: number;
  offsetS?: number;
  /** partition-emitter: how it heals: bytes held and delivered late, or connections reset. */
  heal?: 'hold' | 'reset';
}

export const EMITTERS = 3;
const CLOCK_STEP_S = 120;
/** Offsets stay within ±2 steps: a wall clock wandering off for good tests nothing more. */
const MAX_OFFSET_S = 2 * CLOCK_STEP_S;

/**
 * The kinds a backend is exposed to. Redis: the lock service IS the store, so one restart kind.
 * The Consul double keeps its state in memory (a real Consul keeps its index in Raft), so a
 * restart would reset fences to 1: a fault of the double, not of Lockstep; it is left out.
 */
export function faultKinds(backend: ChaosBackend): FaultKind[] {
  const kinds: FaultKind[] = ['kill-emitter', 'pause-emitter', 'partition-emitter', 'restart-redis', 'step-clock'];
  return backend === 'etcd' ? [...kinds, 'restart-lock-service'] : kinds;
}

/** Every 1–3 s a fault, drawn from the seed, until `seconds` have passed. */
export function planFaults(seed: number, seconds: number, backend: ChaosBackend, ttlMs: number): PlannedFault[] {
  const prng = new Prng(seed, 1);
  const kinds = faultKinds(backend);
  const offsets = Array.from({ length: EMITTERS }, () => 0);
  const plan: PlannedFault[] = [];
  for (let at = prng.int(1000, 3000); at < seconds * 1000; at += prng.int(1000, 3000)) {
    const kind = prng.pick(kinds);
    const emitter = prng.int(0, EMITTERS - 1);
    switch (kind) {
      case 'kill-emitter':
        plan.push({ at, kind, emitter, durationMs: prng.int(100, 1500) });
        break;
      case 'pause-emitter': // past the TTL: the lock service frees its keys meanwhile
        plan.push({ at, kind, emitter, durationMs: ttlMs + prng.int(300, 2000) });
        break;
      case 'partition-emitter':
        plan.push({ at, kind, emitter, durationMs: prng.int(500, 3 * ttlMs), heal: prng.next() < 0.5 ? 'hold' : 'reset' });
        break;
      case 'restart-lock-service':
      case 'restart-redis':
        plan.push({ at, kind, durationMs: prng.int(200, 2000) });
        break;
      case 'step-clock': {
        const previous = offsets[emitter] ?? 0;
        const drawn = prng.next() < 0.5 ? -CLOCK_STEP_S : CLOCK_STEP_S;
        const stepS = Math.abs(previous + drawn) > MAX_OFFSET_S ? -drawn : drawn;
        offsets[emitter] = previous + stepS;
        plan.push({ at, kind, emitter, stepS, offsetS: previous + stepS });
        break;
      }
    }
  }
  return plan;
}
