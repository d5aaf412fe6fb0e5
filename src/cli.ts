#!/usr/bin/env node
import { describeSettings } from './config/describe.js';
import { configFiles } from './config/files.js';
import { ConfigError, loadConfig, redisTarget, type Config, type Role } from './config/index.js';
import { isLockstepError } from './errors.js';
import { closest } from './lib/closest.js';
import { createLogger } from './logger.js';
import { describeRedis } from './redis.js';
import { startLockstep, VERSION, type Running } from './start.js';

const ROLES: Role[] = ['all', 'api', 'emitter'];
const USAGE = `Lockstep ${VERSION}: webhook delivery with per-receiver distributed locks

usage: lockstep <role>   (or config, --help, --version)
  all       API + one emitter in one process (starts a private redis-server when LOCKSTEP_REDIS_URL is unset)
  api       intake and management API only
  emitter   one emitter worker; start as many as you like, on any host
  config    check the configuration and show every setting, where it came from (secrets hidden); starts nothing

Configuration: config/default.json, config/<NODE_ENV>.json, then LOCKSTEP_* environment variables
(see README.md). Stop with SIGTERM or Ctrl-C; a second signal exits at once.`;

async function main(): Promise<void> {
  const arg = process.argv[2];
  if (arg === '--version' || arg === '-v' || arg === 'version') {
    console.log(`lockstep ${VERSION}`);
    process.exit(0);
  }
  if (arg === 'config') showConfig();
  if (!isRole(arg)) {
    const asked = arg === '--help' || arg === '-h' || arg === 'help';
    const meant = arg && closest(arg, [...ROLES, 'config']);
    (asked ? console.log : console.error)(asked || !arg ? USAGE : `unknown role "${arg}"${meant ? ` (did you mean ${meant}?)` : ''}\n\n${USAGE}`);
    process.exit(asked ? 0 : 2);
  }
  const role = arg;
  const config = configOrExit(() => loadConfig());
  const log = createLogger(config.logLevel, { role, emitterId: config.emitterId });
  let running: Running;
  try {
    running = await startLockstep(role, config, log);
  } catch (error) {
    if (error instanceof ConfigError) fail(`configuration problem: ${error.message}`, 2);
    if (isStartFailure(error)) fail(error.message, 1);
    throw error;
  }
  // before the banner: whoever reads it as "started" may send SIGTERM at once, and must get a clean stop
  stopOnSignals(running, log);
  printBanner(role, config, running);
  for (const warning of config.unknownVariables) log.warn(warning);
  log.info({ url: running.url, lockBackend: config.lockBackend, version: VERSION }, 'lockstep started');
}

/**
 * A start-up failure the operator can act on from its message alone (exit 1, no stack): ours, or a
 * dependency that could not be started or reached (redis-server, Redis, the lock service).
 */
function isStartFailure(error: unknown): error is Error {
  return isLockstepError(error) && ['LOCKSTEP_START', 'LOCKSTEP_LOCK_BACKEND', 'LOCKSTEP_REDIS_UNAVAILABLE'].includes(error.code);
}

/** What `read` reads of the configuration, or "configuration problem: …" and exit 2. */
function configOrExit<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof ConfigError) fail(`configuration problem: ${error.message}`, 2);
    throw error;
  }
}

/** `lockstep config`: what a start would read, checked as a start checks it; exit 2 on a problem. */
function showConfig(): never {
  const files = configOrExit(() => configFiles(process.env));
  const config = configOrExit(() => loadConfig(process.env, files));
  const lines = describeSettings(process.env, config, files);
  const width = Math.max(...lines.map((line) => line.name.length));
  const valueWidth = Math.min(40, Math.max(...lines.map((line) => line.value.length)));
  const nodeEnv = process.env.NODE_ENV ? `NODE_ENV=${process.env.NODE_ENV}` : 'NODE_ENV not set';
  console.log(`Lockstep ${VERSION} configuration (${nodeEnv}; the environment wins over the files):`);
  for (const { name, value, source } of lines) console.log(`  ${name.padEnd(width)}  ${value.padEnd(valueWidth)}  ${source}`);
  for (const warning of config.unknownVariables) console.log(`  ⚠ ${warning}`);
  process.exit(0);
}

function isRole(value: string | undefined): value is Role {
  return ROLES.includes(value as Role);
}

function printBanner(role: Role, config: Config, running: Running): void {
  const lines = [
    `Lockstep ${VERSION} — role ${role}`,
    running.url ? `  API          ${running.url}   (OpenAPI: ${running.url}/docs)` : undefined,
    running.url ? `  dashboard    ${running.url}/ui/   (sign in with the API token)` : undefined,
    `  Redis        ${describeRedis(running.redis)}${redisTarget(config) ? '' : '  (embedded, data in ' + config.dataDir + '/redis)'}${config.redisMinReplicas > 0 ? `, writes confirmed on ${config.redisMinReplicas} replica(s)` : ''}`,
    `  lock backend ${config.lockBackend}${lockTarget(config)}, TTL ${config.lockTtlMs} ms`,
    role !== 'api' ? `  emitter      ${config.emitterId}, ${config.emitterConcurrency} receivers at once` : undefined,
    role !== 'emitter' ? `  API token    ${running.tokenSource}` : undefined,
    running.redisWarning ? `  ⚠ ${running.redisWarning}` : undefined,
    ...config.unknownVariables.map((warning) => `  ⚠ ${warning}`),
    running.allowPrivateNetworks
      ? '  ⚠ delivery to private and loopback addresses is ALLOWED (development; set NODE_ENV=production or LOCKSTEP_ALLOW_PRIVATE_NETWORKS=false to block)'
      : undefined,
    running.url ? `  try:         curl -H "Authorization: Bearer ${running.tokenInShell}" ${running.url}/v1/receivers` : undefined,
  ];
  process.stderr.write(`${lines.filter(Boolean).join('\n')}\n`);
}

function lockTarget(config: Config): string {
  if (config.lockBackend === 'etcd') return ` (${config.etcdHosts.join(', ')})`;
  if (config.lockBackend === 'consul') return ` (${config.consulAddr})`;
  return '';
}

function stopOnSignals(running: Running, log: ReturnType<typeof createLogger>): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting at once');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, 'stopping: finishing in-flight deliveries, releasing locks');
    running.stop().then(
      () => {
        log.info('stopped cleanly');
        process.exit(0);
      },
      (error: unknown) => {
        log.error({ err: error }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

function fail(message: string, code: number): never {
  process.stderr.write(`lockstep: ${message}\n`);
  process.exit(code);
}

await main();
