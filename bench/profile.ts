// Reads a V8 .cpuprofile and lists where the time went: self time per function (summed over every
// node of the call tree that is the same function), and inclusive time of Lockstep's own functions
// (dist/), which says which step of the delivery path the self time belongs to.
// Also usable alone: node --import tsx bench/profile.ts <file.cpuprofile> [top]
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Environment that makes a Lockstep process write a CPU profile into `dir` when it exits (bench/cpu-profile.mjs). */
export function profilerEnv(dir: string, prefix: string): Record<string, string> {
  return {
    NODE_OPTIONS: `--import=${new URL('./cpu-profile.mjs', import.meta.url).href}`,
    LOCKSTEP_BENCH_PROFILE_DIR: dir,
    LOCKSTEP_BENCH_PROFILE_PREFIX: prefix,
  };
}

/** Where the profile of emitter `emitterId` started with `profilerEnv(dir, prefix)` is written. */
export function profilePath(dir: string, prefix: string, emitterId: string): string {
  return join(dir, `${prefix}-${emitterId}.cpuprofile`);
}

/** The summary of a profile written by a scenario (`summarizeProfile`), or a line saying it is missing. */
export function profileReport(path: string, title: string, top = 15): string {
  return existsSync(path) ? `CPU profile of ${title}: ${path}\n${summarizeProfile(path, top)}` : `no CPU profile of ${title} at ${path}`;
}

/** The `top` functions by self time and Lockstep's by inclusive time, as text lines. */
export function summarizeProfile(path: string, top: number): string {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let totalUs = 0;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    const node = byId.get(id);
    if (!node) return;
    totalUs += delta;
    add(self, label(node), delta);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at);
      if (frame && label(frame).includes('  dist/')) seen.add(label(frame));
    }
    for (const key of seen) add(inclusive, key, delta);
  });
  const line = (key: string, us: number): string => `  ${((100 * us) / totalUs).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${key}`;
  const ranked = (map: Map<string, number>): [string, number][] =>
    [...map.entries()]
      .filter(([key]) => key !== '(idle)')
      .sort((a, b) => b[1] - a[1])
      .slice(0, top);
  return [
    `  ${(totalUs / 1000).toFixed(0)} ms sampled, ${((100 * (self.get('(idle)') ?? 0)) / Math.max(1, totalUs)).toFixed(1)}% idle; top self time:`,
    ...ranked(self).map(([key, us]) => line(key, us)),
    '  Lockstep functions (dist/) by inclusive time:',
    ...ranked(inclusive).map(([key, us]) => line(key, us)),
  ].join('\n');
}

function add(map: Map<string, number>, key: string, us: number): void {
  map.set(key, (map.get(key) ?? 0) + us);
}

function label(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  if (!url) return functionName || '(anonymous)';
  const place = url.startsWith('file://') ? relative(process.cwd(), new URL(url).pathname) : url;
  return `${functionName || '(anonymous)'}  ${place}:${lineNumber + 1}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [file, top] = process.argv.slice(2);
  if (!file) throw new Error('usage: node --import tsx bench/profile.ts <file.cpuprofile> [top]');
  console.log(summarizeProfile(file, Number(top ?? 25)));
}
