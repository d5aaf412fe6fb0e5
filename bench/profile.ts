// Reads a V8 .cpuprofile (node --cpu-prof) and lists where the time went: self time per function,
// summed over every node of the call tree that is the same function.
// Also usable alone: node --import tsx bench/profile.ts <file.cpuprofile> [top]
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Environment that makes a Lockstep process write a CPU profile into `dir` when it exits (bench/cpu-profile.mjs). */
export function profilerEnv(dir: string): Record<string, string> {
  return { NODE_OPTIONS: `--import=${new URL('./cpu-profile.mjs', import.meta.url).href}`, LOCKSTEP_BENCH_PROFILE_DIR: dir };
}

/** The most recently written .cpuprofile in `dir`, if any. */
export function latestProfile(dir: string): string | undefined {
  let files: string[];
  try {
    files = readdirSync(dir).filter((name) => name.endsWith('.cpuprofile'));
  } catch {
    return undefined;
  }
  return files.map((name) => join(dir, name)).sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
}

/** The `top` functions by self time, as text lines: share of samples, ms, function and place. */
export function summarizeProfile(path: string, top: number): string {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<string, number>();
  let totalUs = 0;
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    const delta = profile.timeDeltas[i] ?? 0;
    if (!node) return;
    totalUs += delta;
    const key = label(node);
    selfUs.set(key, (selfUs.get(key) ?? 0) + delta);
  });
  const idle = (selfUs.get('(idle)') ?? 0) / Math.max(1, totalUs);
  const lines = [...selfUs.entries()]
    .filter(([key]) => key !== '(idle)')
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([key, us]) => `  ${((100 * us) / totalUs).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${key}`);
  return [`  ${(totalUs / 1000).toFixed(0)} ms sampled, ${(100 * idle).toFixed(1)}% idle; top self time:`, ...lines].join('\n');
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
