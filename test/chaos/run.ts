import { ChaosCluster } from './cluster.js';
import { whyOpen } from './diagnose.js';
import { HolderWatch } from './holders.js';
import { describeFault, FaultRunner } from './faults.js';
import { faultKinds, planFaults, type ChaosBackend } from './plan.js';
import { settle } from './settle.js';
import { judge, type Verdict } from './verdict.js';
import { chaosReceivers, Intake } from './workload.js';

export interface ChaosOptions {
  backend: ChaosBackend;
  seconds: number;
  seed: number;
  /** Upper bound of the settle phase. */
  settleSeconds: number;
  /** Messages accepted per second during the fault phase. */
  rate: number;
  out: (line: string) => void;
}

export interface ChaosResult {
  verdict: Verdict;
  faults: number;
  accepted: number;
  requests: number;
  settledAfterMs: number | undefined;
}

/** Short TTL and a fast retry schedule, so that a run converges within its settle phase. */
export const TTL_MS = 2000;
const ENV = {
  LOCKSTEP_LOCK_TTL_MS: String(TTL_MS),
  LOCKSTEP_RETRY_SCHEDULE: '0.1,0.2,0.4,0.8,1.6',
  LOCKSTEP_THROTTLED_MIN_MS: '500',
  LOCKSTEP_MAX_MESSAGES_PER_TURN: '20',
  LOCKSTEP_EMITTER_CONCURRENCY: '8',
  LOCKSTEP_RECONCILE_EVERY_MS: '1000',
  LOCKSTEP_LOG_LEVEL: 'warn',
};

export function replayCommand(o: Pick<ChaosOptions, 'backend' | 'seconds' | 'seed'>): string {
  return `npm run chaos -- --backend ${o.backend} --seconds ${o.seconds} --seed ${o.seed}`;
}

/**
 * One chaos run: the fleet, 20 receivers, continuous intake; the seeded fault plan for
 * `seconds`; then every fault healed, intake stopped, a bounded settle phase, and the verdict.
 */
export async function runChaos(o: ChaosOptions): Promise<ChaosResult> {
  const plan = planFaults(o.seed, o.seconds, o.backend, TTL_MS);
  o.out(
    `chaos: backend ${o.backend}, seed ${o.seed}, ${o.seconds} s of faults (${plan.length} planned: ${faultKinds(o.backend).join(', ')}), settle ≤ ${o.settleSeconds} s, TTL ${TTL_MS} ms, ${o.rate} messages/s`,
  );
  o.out(`replay: ${replayCommand(o)}`);
  const cluster = await ChaosCluster.start(o.backend, ENV);
  try {
    const { receiver, client } = cluster.fleet;
    const names = new Map<string, string>();
    const ids = new Map<string, string>();
    for (const spec of chaosReceivers()) {
      receiver.set(spec.name, spec.behaviour);
      const { id } = await client.createReceiver({ url: receiver.url(spec.name), ...(spec.timeoutMs ? { timeoutMs: spec.timeoutMs } : {}) });
      names.set(id, spec.name);
      ids.set(spec.name, id);
    }
    const intake = new Intake(client, ids, o.seed, o.rate);
    const t0 = Date.now();
    intake.hangCutoff = t0 + Math.max(0, o.seconds - 10) * 1000;
    const runner = new FaultRunner(cluster, o.out, t0);
    const holders = new HolderWatch(client);
    holders.start();
    intake.start();
    await runner.run(plan);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, t0 + o.seconds * 1000 - Date.now())));
    await intake.stop();
    holders.stop();
    for (const slot of cluster.slots) if (slot.clock.offsetS !== 0) runner.clockSteps.push({ emitterId: slot.id, at: Date.now(), offsetS: 0 });
    await cluster.healAll();
    o.out(
      `[${runner.stamp()}] fault phase over: every fault healed, clocks back to true time, intake stopped (${intake.accepted.length} accepted, answers ${JSON.stringify(Object.fromEntries(intake.answers))}); settling`,
    );
    const { views, settledAfterMs } = await settle(client, intake.accepted, o.settleSeconds * 1000);
    o.out(
      `[${runner.stamp()}] ${settledAfterMs === undefined ? `NOT settled within ${o.settleSeconds} s` : `settled in ${(settledAfterMs / 1000).toFixed(1)} s`}`,
    );
    const admin = cluster.fleet.redis.client();
    const whyStillOpen = await whyOpen(client, admin, ids).finally(() => admin.disconnect());
    const verdict = judge({
      whyStillOpen,
      receiver,
      names,
      accepted: intake.accepted,
      views,
      pauses: runner.pauses,
      clockSteps: runner.clockSteps,
      crashes: cluster.crashes,
      stamp: (at) => runner.stamp(at),
      holderOf: (receiverId, fence) => holders.holder(receiverId, fence),
    });
    // a stall names what the emitters last said (warnings and errors: the run's log level)
    if (settledAfterMs === undefined)
      for (const slot of cluster.slots) verdict.notes.push(`${slot.id}'s last log lines:\n${(slot.process?.logs.slice(-15) ?? ['(not running)']).join('\n')}`);
    if (intake.unresolved.length > 0)
      verdict.notes.push(`${intake.unresolved.length} messages never got a 202 within 30 s of retries (left out of the checks)`);
    for (const record of runner.records.filter((r) => r.error))
      verdict.notes.push(`fault ${describeFault(record.fault, record.target)} failed: ${record.error}`);
    return { verdict, faults: runner.records.length, accepted: intake.accepted.length, requests: receiver.requests.length, settledAfterMs };
  } finally {
    await cluster.stop();
  }
}

/** The report's tail: counts, then every violation by invariant, precise enough to start debugging from. */
export function report(o: ChaosOptions, result: ChaosResult): string[] {
  const { verdict } = result;
  const lines = [
    `result: ${result.faults} faults, ${result.accepted} messages accepted, ${result.requests} requests at the receivers`,
    ...verdict.notes.map((n) => `note: ${n}`),
  ];
  for (const excused of verdict.excused) lines.push(`excused overlap: ${excused.detail}`);
  const invariants = ['no-overlap', 'no-stale-fence', 'delivered-or-dead', 'acceptance-order', 'emitters-stay-up'] as const;
  for (const invariant of invariants) {
    const found = verdict.violations.filter((v) => v.invariant === invariant);
    lines.push(`${found.length === 0 ? 'PASS' : 'FAIL'} ${invariant}${found.length ? `: ${found.length} violation(s)` : ''}`);
    for (const violation of found.slice(0, 20)) lines.push(`  - ${violation.detail}`);
    if (found.length > 20) lines.push(`  … and ${found.length - 20} more`);
  }
  lines.push(
    verdict.violations.length === 0 ? `OK: seed ${o.seed} on ${o.backend}` : `VIOLATIONS: ${verdict.violations.length}; replay with: ${replayCommand(o)}`,
  );
  return lines;
}
