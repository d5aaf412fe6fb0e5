import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';

/** How a figure compares with its target. */
export type Verdict = 'met' | 'MISSED' | 'report' | 'not implemented' | 'not available' | 'failed';

/** One line of the results table. */
export interface Row {
  scenario: string;
  /** Lock backend, or "-" where none is involved (intake). */
  backend: string;
  figure: number | null;
  unit: string;
  /** The baseline measured in the same run (null: none applies). */
  baseline: number | null;
  baselineLabel: string;
  ratio: number | null;
  target: string;
  verdict: Verdict;
  /** Redis commands per delivered (or accepted) message, from INFO commandstats before/after. */
  redisPerMessage: number | null;
  notes: string;
  /** 1-minute load average when the scenario started: how busy the shared machine was. */
  load?: number;
}

/** A row whose figure is compared with `baseline` as figure / baseline ≥ `minRatio`. */
export function ratioRow(
  fields: Omit<Row, 'ratio' | 'verdict' | 'target' | 'notes' | 'redisPerMessage'> & { minRatio: number; redisPerMessage?: number | null; notes?: string },
): Row {
  const { minRatio, ...rest } = fields;
  const ratio = rest.figure !== null && rest.baseline ? rest.figure / rest.baseline : null;
  return { redisPerMessage: null, notes: '', ...rest, ratio, target: `ratio ≥ ${minRatio}`, verdict: ratio !== null && ratio >= minRatio ? 'met' : 'MISSED' };
}

/** A row whose figure must stay at or under `limit`. */
export function limitRow(
  fields: Omit<Row, 'ratio' | 'verdict' | 'notes' | 'redisPerMessage'> & { limit: number; redisPerMessage?: number | null; notes?: string },
): Row {
  const { limit, ...rest } = fields;
  const ratio = rest.figure !== null && rest.baseline ? rest.figure / rest.baseline : null;
  return { redisPerMessage: null, notes: '', ...rest, ratio, verdict: rest.figure !== null && rest.figure <= limit ? 'met' : 'MISSED' };
}

/** A figure with no target: reported only. */
export function reportRow(scenario: string, backend: string, figure: number, unit: string, notes: string, redisPerMessage: number | null = null): Row {
  return { scenario, backend, figure, unit, baseline: null, baselineLabel: '', ratio: null, target: 'report', verdict: 'report', redisPerMessage, notes };
}

/** A row that has no figure: the scenario could not run (`verdict` says why). */
export function emptyRow(scenario: string, backend: string, verdict: Verdict, notes: string): Row {
  return { scenario, backend, figure: null, unit: '', baseline: null, baselineLabel: '', ratio: null, target: '', verdict, redisPerMessage: null, notes };
}

export function machine(quick: boolean): string {
  return `${cpus().length} cores (${cpus()[0]?.model.trim() ?? 'unknown CPU'}), Node ${process.version}, ${quick ? 'quick' : 'full'} run`;
}

/**
 * A figure as the table shows it. `cut`: to the digits shown, not rounded, for ratios: 0.4997
 * against a 0.5 target reads 0.499, not a met-looking 0.500.
 */
function number(n: number | null, cut = false): string {
  if (n === null || !Number.isFinite(n)) return '—';
  const abs = Math.abs(n);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3;
  // the epsilon keeps a ratio that is exactly 0.29 from reading 0.289 (0.29 × 1000 = 289.99…)
  const shown = cut ? Math.floor(n * 10 ** digits + 1e-9) / 10 ** digits : n;
  return digits === 0 ? Math.round(shown).toLocaleString('en-US') : shown.toFixed(digits);
}

/** The results as a Markdown table (also readable in a terminal). */
export function markdownTable(rows: Row[]): string {
  const header = ['scenario', 'backend', 'figure', 'baseline (same run)', 'ratio', 'target', 'verdict', 'Redis cmds/msg', 'load', 'notes'];
  const lines = rows.map((r) => [
    r.scenario,
    r.backend,
    r.figure === null ? '—' : `${number(r.figure)} ${r.unit}`,
    r.baseline === null ? r.baselineLabel || '—' : `${number(r.baseline)} (${r.baselineLabel})`,
    number(r.ratio, true),
    r.target || '—',
    r.verdict === 'MISSED' ? '**MISSED**' : r.verdict,
    number(r.redisPerMessage),
    r.load === undefined ? '—' : r.load.toFixed(1),
    r.notes.replaceAll('|', '/'),
  ]);
  return [header, header.map(() => '---'), ...lines].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

/** Writes bench/results/<YYYY-MM-DD>.json; returns its path. */
export function writeResults(rows: Row[], meta: Record<string, unknown>): string {
  const dir = fileURLToPath(new URL('./results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  const path = `${dir}${new Date().toISOString().slice(0, 10)}.json`;
  writeFileSync(path, `${JSON.stringify({ ...meta, rows }, null, 2)}\n`);
  return path;
}
