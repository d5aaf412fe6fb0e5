import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freePort, waitFor } from './support/ports.js';
import { RedisServer } from './support/redis.js';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const cleanEnv = (): Record<string, string> =>
  Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('LOCKSTEP_') && key !== 'NODE_ENV')) as Record<string, string>;

/** `lockstep all` on its private redis-server in a fresh data directory, up once its banner is printed. */
async function startAll(): Promise<{ child: ChildProcess; dataDir: string; port: number; stderr: () => string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'lockstep-cli-'));
  const port = await freePort();
  const child = spawn(process.execPath, [CLI, 'all'], {
    env: { ...cleanEnv(), LOCKSTEP_PORT: String(port), LOCKSTEP_DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout?.resume();
  await waitFor('the banner', () => stderr.includes('API token'), 20_000);
  return { child, dataDir, port, stderr: () => stderr };
}

/** The pids of the private redis-server the banner names (it shows itself as `redis-server <host>:<port>`, not its directory). */
function privateRedis(stderr: string): number[] {
  const url = /Redis\s+redis:\/\/([\d.]+:\d+)\s+\(embedded/.exec(stderr)?.[1];
  assert.ok(url, 'the banner names the private Redis');
  const found = spawnSync('pgrep', ['-f', `^redis-server ${url.replaceAll('.', '\\.')}`], { encoding: 'utf8' });
  return found.stdout.split('\n').filter(Boolean).map(Number);
}

test('`lockstep all` with no Redis URL starts a private redis-server, prints the banner, and stops cleanly on SIGTERM', async () => {
  const { child, dataDir, port, stderr: output } = await startAll();
  const stderr = output();
  try {
    assert.match(stderr, new RegExp(`API\\s+http://127\\.0\\.0\\.1:${port}`));
    assert.match(stderr, /embedded, data in/);
    assert.match(stderr, /lock backend redis/);
    assert.match(stderr, /delivery to private and loopback addresses is ALLOWED/);
    const token = readFileSync(join(dataDir, 'api-token'), 'utf8').trim();
    assert.ok(stderr.includes(token), 'a generated token is printed the first time');
    // the example is copied and run as it stands: the token read from its file
    assert.ok(
      stderr.includes(`try:         curl -H "Authorization: Bearer $(cat ${join(dataDir, 'api-token')})" http://127.0.0.1:${port}/v1/receivers`),
      stderr,
    );
    const receivers = await fetch(`http://127.0.0.1:${port}/v1/receivers`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(receivers.status, 200);
    assert.ok(existsSync(join(dataDir, 'redis', 'appendonlydir')), 'AOF under the data directory');
    assert.equal(privateRedis(stderr).length, 1, 'the private redis-server ran');
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.deepEqual(privateRedis(stderr), [], 'the private redis-server is gone');
  } finally {
    child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('`lockstep all` whose private redis-server died still stops on SIGTERM, within seconds', async () => {
  const { child, dataDir, stderr } = await startAll();
  try {
    const [redis] = privateRedis(stderr());
    assert.ok(redis, 'the private redis-server runs');
    process.kill(redis, 'SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const asked = Date.now();
    child.kill('SIGTERM');
    // the stop no longer waits for an unreachable queue once no turn runs (emitter.ts), nor for a dead child's exit
    assert.equal(await exited, 0);
    assert.ok(Date.now() - asked < 20_000, `stopped after ${Date.now() - asked} ms`);
  } finally {
    child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('without redis-server installed, `lockstep all` says how to install it', async () => {
  const nodeOnly = mkdtempSync(join(tmpdir(), 'lockstep-path-'));
  symlinkSync(process.execPath, join(nodeOnly, 'node'));
  const result = spawnSync(process.execPath, [CLI, 'all'], {
    env: { ...cleanEnv(), PATH: nodeOnly, LOCKSTEP_DATA_DIR: join(nodeOnly, 'data'), LOCKSTEP_PORT: String(await freePort()) },
    encoding: 'utf8',
    timeout: 20_000,
  });
  rmSync(nodeOnly, { recursive: true, force: true });
  assert.equal(result.status, 1);
  assert.match(result.stderr, /redis-server is not installed/);
  assert.match(result.stderr, /apt-get install -y redis-server/);
  assert.match(result.stderr, /LOCKSTEP_REDIS_URL/);
});

test('roles other than `all` need LOCKSTEP_REDIS_URL and a token; bad config and roles are named; --help and --version answer', () => {
  const run = (args: string[], env: Record<string, string> = {}) =>
    spawnSync(process.execPath, [CLI, ...args], { env: { ...cleanEnv(), LOCKSTEP_PORT: '1', ...env }, encoding: 'utf8', timeout: 20_000 });
  assert.match(run(['emitter']).stderr, /LOCKSTEP_REDIS_URL is required for role "emitter"/);
  assert.match(run(['api'], { LOCKSTEP_REDIS_URL: 'redis://127.0.0.1:1' }).stderr, /LOCKSTEP_API_TOKEN is required/);
  const badPort = run(['api'], { LOCKSTEP_PORT: 'x' });
  assert.equal(badPort.status, 2);
  assert.match(badPort.stderr, /LOCKSTEP_PORT must be a whole number/);
  const unknown = run(['bogus']);
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown role "bogus"\n/);
  assert.match(run(['emiter']).stderr, /unknown role "emiter" \(did you mean emitter\?\)/);
  assert.equal(run(['--help']).status, 0);
  const version = run(['--version']);
  assert.equal(version.status, 0);
  assert.match(version.stdout, /^lockstep \d+\.\d+\.\d+/);
});

test('an unreachable lock service is named, without a stack, exit 1', async () => {
  const redis = await RedisServer.start();
  try {
    const consul = `http://127.0.0.1:${await freePort()}`;
    const result = spawnSync(process.execPath, [CLI, 'emitter'], {
      env: { ...cleanEnv(), LOCKSTEP_REDIS_URL: redis.url, LOCKSTEP_LOCK_BACKEND: 'consul', LOCKSTEP_CONSUL_ADDR: consul },
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(result.status, 1, result.stderr);
    assert.match(result.stderr, new RegExp(`lockstep: consul lock service at ${consul.replaceAll('.', '\\.')}: `));
    assert.doesNotMatch(result.stderr, /^\s+at /m, 'no stack');
  } finally {
    await redis.destroy();
  }
});

test('a start waiting for an unreachable Redis says so within seconds, and stops on SIGTERM', async () => {
  const url = `redis://127.0.0.1:${await freePort()}`;
  const child = spawn(process.execPath, [CLI, 'emitter'], { env: { ...cleanEnv(), LOCKSTEP_REDIS_URL: url }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    await waitFor('the waiting line', () => output.includes(`Redis at ${url} does not answer yet; trying for 30 s`));
    child.kill('SIGTERM');
    assert.equal(await Promise.race([exited.then(() => 'exited'), new Promise((resolve) => setTimeout(resolve, 5000, 'still running'))]), 'exited');
  } finally {
    child.kill('SIGKILL');
  }
});
