import { readFileSync } from 'node:fs';

/** CPU time (user + system) a process has used so far, in ms, from /proc/<pid>/stat (clock ticks of 10 ms). */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10; // utime, stime: fields 14 and 15 of the line
}

/** CPU used by named processes between `start()` and `describe()`, per unit of work. */
export class CpuMeter {
  private readonly before = new Map<string, number>();

  constructor(private readonly pids: Record<string, number>) {}

  start(): this {
    for (const [name, pid] of Object.entries(this.pids)) this.before.set(name, cpuMs(pid));
    return this;
  }

  /** "emitter 0.81, redis 0.20 ms CPU per delivery" over `units` units of work. */
  describe(units: number, unit: string): string {
    const parts = Object.entries(this.pids).map(([name, pid]) => `${name} ${((cpuMs(pid) - (this.before.get(name) ?? 0)) / units).toFixed(2)}`);
    return `${parts.join(', ')} ms CPU per ${unit}`;
  }
}
