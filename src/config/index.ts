import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export type LockBackendName = 'redis' | 'etcd' | 'consul';
export type Role = 'all' | 'api' | 'emitter';

/** Everything a Lockstep process reads at start-up. Durations are milliseconds unless named. */
export interface Config {
  host: string;
  port: number;
  /** Accepted bearer tokens; empty only before the CLI has generated one for role `all`. */
  apiTokens: string[];
  redisUrl: string | undefined;
  redisPrefix: string;
  lockBackend: LockBackendName;
  etcdHosts: string[];
  consulAddr: string;
  lockTtlMs: number;
  emitterId: string;
  emitterConcurrency: number;
  /** Delays between attempts, in milliseconds (the environment gives seconds). */
  retrySchedule: number[];
  /** The default schedule of `ordering: strict` receivers (ms): every retry holds their whole queue. */
  strictRetrySchedule: number[];
  /** Consecutive failed attempts after which a receiver backs off as a whole (its breaker opens). */
  breakerFailures: number;
  /** Timeouts and 429 answers back off at least this long. */
  throttledMinMs: number;
  /** A receiver's `Retry-After` is honoured up to this long. */
  retryAfterMaxMs: number;
  /** A receiver whose deliveries keep ending dead this long, with no success between, is disabled. */
  disableAfterDeadMs: number;
  /** undefined = not set anywhere: the CLI decides from the role and NODE_ENV. */
  allowPrivateNetworks: boolean | undefined;
  /** CIDRs that delivery may reach even though the address guard would block them. */
  allowCidrs: string[];
  logLevel: string;
  dataDir: string;
  bodyLimitBytes: number;
  defaultTimeoutMs: number;
  /** Fairness budget of one turn holding a receiver's lock. */
  maxMessagesPerTurn: number;
  maxTurnMs: number;
  /** How often emitters look for receivers with work but no drain job. */
  reconcileEveryMs: number;
  /** Port of an emitter's own /metrics server (undefined: none; the API always serves /metrics). */
  metricsPort: number | undefined;
  /** Label delivery metrics by receiver id (only for small fleets: one series per receiver). */
  metricsReceiverLabels: boolean;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));

type Env = Record<string, string | undefined>;

/** Reads `config/default.json`, then `config/<NODE_ENV>.json`, then the environment, in that order. */
export function loadConfig(env: Env = process.env): Config {
  const dir = env.LOCKSTEP_CONFIG_DIR ?? join(PACKAGE_ROOT, 'config');
  const files = { ...readJson(join(dir, 'default.json')), ...(env.NODE_ENV ? readJson(join(dir, `${env.NODE_ENV}.json`)) : {}) };
  const fromFile = (key: string): unknown => files[key];

  return {
    host: env.LOCKSTEP_HOST ?? str(fromFile('host'), 'host'),
    port: int(env.LOCKSTEP_PORT ?? fromFile('port'), 'LOCKSTEP_PORT', 0, 65535),
    apiTokens: (env.LOCKSTEP_API_TOKEN ?? '').split(',').map((t) => t.trim()).filter(Boolean),
    redisUrl: env.LOCKSTEP_REDIS_URL || undefined,
    redisPrefix: env.LOCKSTEP_REDIS_PREFIX ?? str(fromFile('redisPrefix'), 'redisPrefix'),
    lockBackend: backend(env.LOCKSTEP_LOCK_BACKEND ?? fromFile('lockBackend')),
    etcdHosts: list(env.LOCKSTEP_ETCD_HOSTS ?? fromFile('etcdHosts')),
    consulAddr: env.LOCKSTEP_CONSUL_ADDR ?? str(fromFile('consulAddr'), 'consulAddr'),
    lockTtlMs: int(env.LOCKSTEP_LOCK_TTL_MS ?? fromFile('lockTtlMs'), 'LOCKSTEP_LOCK_TTL_MS', 500, 600_000),
    emitterId: env.LOCKSTEP_EMITTER_ID ?? `${hostname()}-${process.pid}`,
    emitterConcurrency: int(env.LOCKSTEP_EMITTER_CONCURRENCY ?? fromFile('emitterConcurrency'), 'LOCKSTEP_EMITTER_CONCURRENCY', 1, 10_000),
    retrySchedule: schedule(env.LOCKSTEP_RETRY_SCHEDULE ?? fromFile('retrySchedule')),
    strictRetrySchedule: schedule(env.LOCKSTEP_STRICT_RETRY_SCHEDULE ?? fromFile('strictRetrySchedule'), 'LOCKSTEP_STRICT_RETRY_SCHEDULE'),
    breakerFailures: int(env.LOCKSTEP_BREAKER_FAILURES ?? fromFile('breakerFailures'), 'LOCKSTEP_BREAKER_FAILURES', 1, 1000),
    throttledMinMs: int(env.LOCKSTEP_THROTTLED_MIN_MS ?? fromFile('throttledMinMs'), 'LOCKSTEP_THROTTLED_MIN_MS', 0, 86_400_000),
    retryAfterMaxMs: int(env.LOCKSTEP_RETRY_AFTER_MAX_MS ?? fromFile('retryAfterMaxMs'), 'LOCKSTEP_RETRY_AFTER_MAX_MS', 1000, 7 * 86_400_000),
    disableAfterDeadMs: int(env.LOCKSTEP_DISABLE_AFTER_DEAD_MS ?? fromFile('disableAfterDeadMs'), 'LOCKSTEP_DISABLE_AFTER_DEAD_MS', 0, 365 * 86_400_000),
    allowPrivateNetworks: bool(env.LOCKSTEP_ALLOW_PRIVATE_NETWORKS ?? fromFile('allowPrivateNetworks'), 'LOCKSTEP_ALLOW_PRIVATE_NETWORKS'),
    allowCidrs: list(env.LOCKSTEP_ALLOW_CIDRS ?? fromFile('allowCidrs') ?? []),
    logLevel: env.LOCKSTEP_LOG_LEVEL ?? str(fromFile('logLevel'), 'logLevel'),
    dataDir: env.LOCKSTEP_DATA_DIR ?? str(fromFile('dataDir'), 'dataDir'),
    bodyLimitBytes: int(env.LOCKSTEP_BODY_LIMIT_BYTES ?? fromFile('bodyLimitBytes'), 'LOCKSTEP_BODY_LIMIT_BYTES', 1024, 64 * 1024 * 1024),
    defaultTimeoutMs: int(env.LOCKSTEP_DEFAULT_TIMEOUT_MS ?? fromFile('defaultTimeoutMs'), 'LOCKSTEP_DEFAULT_TIMEOUT_MS', 100, 300_000),
    maxMessagesPerTurn: int(env.LOCKSTEP_MAX_MESSAGES_PER_TURN ?? fromFile('maxMessagesPerTurn'), 'LOCKSTEP_MAX_MESSAGES_PER_TURN', 1, 100_000),
    maxTurnMs: int(env.LOCKSTEP_MAX_TURN_MS ?? fromFile('maxTurnMs'), 'LOCKSTEP_MAX_TURN_MS', 10, 600_000),
    metricsPort: env.LOCKSTEP_METRICS_PORT ? int(env.LOCKSTEP_METRICS_PORT, 'LOCKSTEP_METRICS_PORT', 0, 65535) : undefined,
    metricsReceiverLabels: bool(env.LOCKSTEP_METRICS_RECEIVER_LABELS ?? fromFile('metricsReceiverLabels'), 'LOCKSTEP_METRICS_RECEIVER_LABELS') ?? false,
    reconcileEveryMs: int(env.LOCKSTEP_RECONCILE_EVERY_MS ?? fromFile('reconcileEveryMs'), 'LOCKSTEP_RECONCILE_EVERY_MS', 100, 3_600_000),
  };
}

function readJson(path: string): Record<string, unknown> {
  if (!existsSync(path)) return {};
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new ConfigError(`${path} is not valid JSON (${(error as Error).message}); fix or remove it`);
  }
}

function str(value: unknown, name: string): string {
  if (typeof value !== 'string') throw new ConfigError(`${name} must be a string in config/*.json`);
  return value;
}

function int(value: unknown, name: string, min: number, max: number): number {
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isInteger(number) || number < min || number > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return number;
}

function bool(value: unknown, name: string): boolean | undefined {
  if (value === undefined || typeof value === 'boolean') return value;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new ConfigError(`${name} must be true or false, got ${JSON.stringify(value)}`);
}

function list(value: unknown): string[] {
  const items = Array.isArray(value) ? value.map(String) : String(value).split(',');
  return items.map((item) => item.trim()).filter(Boolean);
}

function backend(value: unknown): LockBackendName {
  if (value === 'redis' || value === 'etcd' || value === 'consul') return value;
  throw new ConfigError(`LOCKSTEP_LOCK_BACKEND must be redis, etcd or consul, got ${JSON.stringify(value)}`);
}

function schedule(value: unknown, name = 'LOCKSTEP_RETRY_SCHEDULE'): number[] {
  const seconds = Array.isArray(value) ? value : String(value).split(',').map((s) => s.trim());
  const delays = seconds.map((s) => (typeof s === 'number' ? s : s === '' ? NaN : Number(s)));
  if (delays.length === 0 || delays.some((d) => !Number.isFinite(d) || d < 0 || d > 30 * 86400)) {
    throw new ConfigError(`${name} must be a comma list of seconds (decimals allowed), e.g. 5,300,1800; got ${JSON.stringify(value)}`);
  }
  return delays.map((d) => Math.round(d * 1000));
}
