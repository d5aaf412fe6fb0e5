import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

// Runs on the build `npm test` makes first: what an installed package would hand its users.
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  version: string;
  main: string;
  types: string;
  bin: Record<string, string>;
  exports: Record<string, { types: string; default: string } | string>;
};

/**
 * A consumer project with `lockstep` installed (a symlink to this checkout): `consumer.ts` is
 * type-checked strictly against the package's declarations, then `script` runs there as ESM.
 */
function asConsumer(source: string[], script: string): { tsc: SpawnSyncReturns<string>; run: SpawnSyncReturns<string> } {
  const dir = mkdtempSync(join(tmpdir(), 'lockstep-consumer-'));
  try {
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(ROOT, join(dir, 'node_modules', 'lockstep'));
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
    writeFileSync(join(dir, 'consumer.ts'), [...source, ''].join('\n'));
    const flags = ['--noEmit', '--strict', '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--skipLibCheck', '--lib', 'ES2023,DOM'];
    const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), ...flags, 'consumer.ts'], { cwd: dir, encoding: 'utf8' });
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: dir, encoding: 'utf8' });
    return { tsc, run };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('every file package.json names exists after the build', () => {
  const exported = Object.values(pkg.exports).flatMap((entry) => (typeof entry === 'string' ? [entry] : [entry.types, entry.default]));
  for (const file of [pkg.main, pkg.types, ...Object.values(pkg.bin), ...exported]) {
    assert.ok(existsSync(join(ROOT, file)), `${file} exists`);
  }
  assert.deepEqual(pkg.exports['.'], { types: `./${pkg.types}`, default: `./${pkg.main}` });
  assert.deepEqual(pkg.exports['./client'], { types: './dist/client/index.d.ts', default: './dist/client/index.js' });
});

test('a consumer imports `lockstep` and type-checks against its declarations', () => {
  const { tsc, run } = asConsumer(
    [
      "import { createLogger, loadConfig, startLockstep, VERSION, type Config, type Running } from 'lockstep';",
      "const config: Config = loadConfig({ LOCKSTEP_LOG_LEVEL: 'warn' });",
      "const start: (role: 'all', config: Config, log: ReturnType<typeof createLogger>) => Promise<Running> = startLockstep;",
      'export const checked: [string, Config, typeof start] = [VERSION, config, start];',
    ],
    "const m = await import('lockstep'); console.log(JSON.stringify(Object.keys(m).sort().concat(m.VERSION)));",
  );
  assert.equal(tsc.status, 0, `tsc: ${tsc.stdout}${tsc.stderr}`);
  assert.equal(run.status, 0, run.stderr);
  assert.deepEqual(JSON.parse(run.stdout), ['VERSION', 'createLogger', 'loadConfig', 'startLockstep', pkg.version]);
});

test('a consumer imports `lockstep/client`: paths, bodies and answers are typed', () => {
  const { tsc, run } = asConsumer(
    [
      "import { createLockstepClient, type LockstepClient } from 'lockstep/client';",
      "const lockstep: LockstepClient = createLockstepClient({ baseUrl: 'http://127.0.0.1:8080', token: 't' });",
      'export async function publish(): Promise<string | undefined> {',
      "  const { data, error } = await lockstep.POST('/v1/messages', { body: { eventType: 'invoice.paid', payload: { invoice: 42 } } });",
      '  if (error) return error.message;',
      '  return data.id;',
      '}',
      'export async function wrong(): Promise<void> {',
      '  // @ts-expect-error the body needs an eventType',
      "  await lockstep.POST('/v1/messages', { body: { payload: 1 } });",
      '  // @ts-expect-error no such route',
      "  await lockstep.GET('/v1/nothing');",
      '}',
    ],
    "const m = await import('lockstep/client'); console.log(JSON.stringify(Object.keys(m).sort()));",
  );
  assert.equal(tsc.status, 0, `tsc: ${tsc.stdout}${tsc.stderr}`);
  assert.equal(run.status, 0, run.stderr);
  assert.deepEqual(JSON.parse(run.stdout), ['createLockstepClient']);
});
