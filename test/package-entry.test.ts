import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
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
  exports: Record<string, unknown>;
};

test('every file package.json names exists after the build', () => {
  for (const file of [pkg.main, pkg.types, ...Object.values(pkg.bin)]) {
    assert.ok(existsSync(join(ROOT, file)), `${file} exists`);
  }
  assert.deepEqual(pkg.exports['.'], { types: `./${pkg.types}`, default: `./${pkg.main}` });
});

test('a consumer imports `lockstep` and type-checks against its declarations', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lockstep-consumer-'));
  try {
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(ROOT, join(dir, 'node_modules', 'lockstep'));
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
    writeFileSync(
      join(dir, 'consumer.ts'),
      [
        "import { createLogger, loadConfig, startLockstep, VERSION, type Config, type Running } from 'lockstep';",
        "const config: Config = loadConfig({ LOCKSTEP_LOG_LEVEL: 'warn' });",
        "const start: (role: 'all', config: Config, log: ReturnType<typeof createLogger>) => Promise<Running> = startLockstep;",
        'export const checked: [string, Config, typeof start] = [VERSION, config, start];',
        '',
      ].join('\n'),
    );
    const tsc = spawnSync(
      process.execPath,
      [
        join(ROOT, 'node_modules/typescript/bin/tsc'),
        '--noEmit',
        '--strict',
        '--module',
        'NodeNext',
        '--moduleResolution',
        'NodeNext',
        '--skipLibCheck',
        'consumer.ts',
      ],
      { cwd: dir, encoding: 'utf8' },
    );
    assert.equal(tsc.status, 0, `tsc: ${tsc.stdout}${tsc.stderr}`);
    const script = "const m = await import('lockstep'); console.log(JSON.stringify(Object.keys(m).sort().concat(m.VERSION)));";
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: dir, encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), ['VERSION', 'createLogger', 'loadConfig', 'startLockstep', pkg.version]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
