import { hostname } from 'node:os';
import { ConfigError } from './error.js';
import { egressProxy, tracingConfig, type TracingConfig } from './integrations.js';
import type { RedisTarget } from '../redis.js';
import { configFiles, type ConfigFile } from './files.js';
import { fileKey, unknownVariables, type FileSetting } from './settings.js';
import { bool, cidrs, hostPorts, int, natMap, oneOf, schedule, text, url, urls } from './parse.js';

export type LockBackendName = 'redis' | 'etcd' | 'consul';
export type Role = 'all' | 'api' | 'emitter';

/** Everything a Lockstep process reads at start-up. Durations are milliseconds unless named. */
export interface Config {
  host: string;
  port: number;
  /** Accepted bearer tokens; empty only before the CLI has generated one for role `all`. */
  apiTokens: string[];
  redisUrl: string | undefined;
  /** Nodes of a Redis Cluster (`LOCKSTEP_REDIS_CLUSTER`); undefined = not a cluster. */
  redisCluster: { host: string; port: number }[] | undefined;
  /** Cluster nodes' announced addresses and where this process reaches them (`LOCKSTEP_REDIS_CLUSTER_NAT`). */
  redisClusterNat: Record<string, { host: string; port: number }> | undefined;
  /** Sentinels that name the master (`LOCKSTEP_REDIS_SENTINELS`); undefined = none. */
  redisSentinels: { host: string; port: number }[] | undefined;
  redisSentinelName: string;
  /** Password of the Redis data nodes, when not in the URL. */
  redisPassword: string | undefined;
  redisSentinelPassword: string | undefined;
  /** Replicas a write must reach before it is acknowledged (`WAIT`). */
  redisMinReplicas: number;
  redisPrefix: string;
  /** Shard groups the receivers are spread over (`LOCKSTEP_REDIS_SHARD_GROUPS`; store/keys.ts); fixed once data is stored. */
  redisShardGroups: number;
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
  /** Start even though Redis may evict keys (maxmemory-policy other than noeviction). */
  allowEvictingRedis: boolean;
  /** appendfsync of the embedded redis-server: what a power cut can lose (see README). */
  redisFsync: RedisFsync;
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
  /** Bearer tokens the API's /metrics accepts besides the API tokens (Prometheus's own). */
  metricsTokens: string[];
  /** Serve the API's /metrics without a token. */
  metricsPublic: boolean;
  /** A message whose deliveries are all final is removed (with its attempts) this long after. */
  retentionMs: number;
  /** Intake refuses event types that are not in the event-type catalog. */
  requireKnownEventTypes: boolean;
  /** OpenTelemetry trace export (standard OTEL_* variables); undefined = off, nothing loaded. */
  tracing: TracingConfig | undefined;
  /** HTTP CONNECT proxy every delivery goes through (LOCKSTEP_EGRESS_PROXY). */
  egressProxy: string | undefined;
  /** LOCKSTEP_* variables that are no setting, each said in a sentence: the banner and the log show them. */
  unknownVariables: string[];
}

export { ConfigError, type TracingConfig };

export type RedisFsync = 'always' | 'everysec';
const THIRTY_DAYS_MS = 30 * 86_400_000;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
/** Characters a bearer token (RFC 6750 token68) may hold: anything else could never be sent. */
const TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

type Env = Record<string, string | undefined>;

/** Reads the config files (files.ts: the package's defaults, then LOCKSTEP_CONFIG_DIR's), then the environment, in that order. */
export function loadConfig(env: Env = process.env, read: ConfigFile[] = configFiles(env)): Config {
  const files = Object.assign({}, ...read.map((file) => file.values)) as Record<string, unknown>;

  // the environment wins over the files
  const setting = (name: FileSetting): unknown => env[name] ?? files[fileKey(name)];
  const sentinels = setting('LOCKSTEP_REDIS_SENTINELS');
  const cluster = setting('LOCKSTEP_REDIS_CLUSTER');
  const given = [
    env.LOCKSTEP_REDIS_URL ? 'LOCKSTEP_REDIS_URL' : '',
    sentinels === undefined ? '' : 'LOCKSTEP_REDIS_SENTINELS',
    cluster === undefined ? '' : 'LOCKSTEP_REDIS_CLUSTER',
  ];
  if (given.filter(Boolean).length > 1)
    throw new ConfigError(`set one of LOCKSTEP_REDIS_URL, LOCKSTEP_REDIS_SENTINELS and LOCKSTEP_REDIS_CLUSTER, not ${given.filter(Boolean).join(' and ')}`);
  const prefix = text(setting('LOCKSTEP_REDIS_PREFIX'), 'LOCKSTEP_REDIS_PREFIX', /^\S+$/, '(no spaces)');
  const nat = setting('LOCKSTEP_REDIS_CLUSTER_NAT');
  if (nat !== undefined && cluster === undefined)
    throw new ConfigError('LOCKSTEP_REDIS_CLUSTER_NAT applies to a Redis Cluster: set LOCKSTEP_REDIS_CLUSTER too');
  const shardGroups = int(setting('LOCKSTEP_REDIS_SHARD_GROUPS') ?? 1, 'LOCKSTEP_REDIS_SHARD_GROUPS', 1, 1024);
  return {
    host: text(setting('LOCKSTEP_HOST'), 'LOCKSTEP_HOST', /^[^\s/]+$/, '(a host name or address)'),
    port: int(setting('LOCKSTEP_PORT'), 'LOCKSTEP_PORT', 0, 65535),
    apiTokens: tokens(env.LOCKSTEP_API_TOKEN ?? '', 'LOCKSTEP_API_TOKEN'),
    redisUrl: env.LOCKSTEP_REDIS_URL ? url(env.LOCKSTEP_REDIS_URL, 'LOCKSTEP_REDIS_URL', ['redis:', 'rediss:'], 'redis://127.0.0.1:6379') : undefined,
    redisCluster: cluster === undefined ? undefined : hostPorts(cluster, 'LOCKSTEP_REDIS_CLUSTER', '10.0.0.1:6379,10.0.0.2:6379,10.0.0.3:6379'),
    redisClusterNat: nat === undefined ? undefined : natMap(nat, 'LOCKSTEP_REDIS_CLUSTER_NAT'),
    redisSentinels: sentinels === undefined ? undefined : hostPorts(sentinels, 'LOCKSTEP_REDIS_SENTINELS', '10.0.0.1:26379,10.0.0.2:26379,10.0.0.3:26379'),
    redisSentinelName: text(setting('LOCKSTEP_REDIS_SENTINEL_NAME') ?? 'mymaster', 'LOCKSTEP_REDIS_SENTINEL_NAME', /^\S+$/, '(no spaces)'),
    redisPassword: optionalSecret(env.LOCKSTEP_REDIS_PASSWORD, 'LOCKSTEP_REDIS_PASSWORD'),
    redisSentinelPassword: optionalSecret(env.LOCKSTEP_REDIS_SENTINEL_PASSWORD, 'LOCKSTEP_REDIS_SENTINEL_PASSWORD'),
    redisMinReplicas: int(setting('LOCKSTEP_REDIS_MIN_REPLICAS') ?? (sentinels === undefined ? 0 : 1), 'LOCKSTEP_REDIS_MIN_REPLICAS', 0, 100),
    // On a cluster every key must share one slot (today's scripts reach keys in one slot): a prefix
    // without a hash tag gets one.
    redisPrefix: cluster !== undefined && !/\{[^}]+\}/.test(prefix) ? `{${prefix}}` : prefix,
    redisShardGroups: shardGroups,
    lockBackend: oneOf(setting('LOCKSTEP_LOCK_BACKEND'), 'LOCKSTEP_LOCK_BACKEND', ['redis', 'etcd', 'consul'] as const),
    etcdHosts: urls(setting('LOCKSTEP_ETCD_HOSTS'), 'LOCKSTEP_ETCD_HOSTS', ['http:', 'https:'], 'http://127.0.0.1:2379'),
    consulAddr: url(setting('LOCKSTEP_CONSUL_ADDR'), 'LOCKSTEP_CONSUL_ADDR', ['http:', 'https:'], 'http://127.0.0.1:8500'),
    lockTtlMs: int(setting('LOCKSTEP_LOCK_TTL_MS'), 'LOCKSTEP_LOCK_TTL_MS', 500, 600_000),
    emitterId: text(env.LOCKSTEP_EMITTER_ID ?? `${hostname()}-${process.pid}`, 'LOCKSTEP_EMITTER_ID'),
    emitterConcurrency: int(setting('LOCKSTEP_EMITTER_CONCURRENCY'), 'LOCKSTEP_EMITTER_CONCURRENCY', 1, 10_000),
    retrySchedule: schedule(setting('LOCKSTEP_RETRY_SCHEDULE'), 'LOCKSTEP_RETRY_SCHEDULE'),
    strictRetrySchedule: schedule(setting('LOCKSTEP_STRICT_RETRY_SCHEDULE'), 'LOCKSTEP_STRICT_RETRY_SCHEDULE'),
    breakerFailures: int(setting('LOCKSTEP_BREAKER_FAILURES'), 'LOCKSTEP_BREAKER_FAILURES', 1, 1000),
    throttledMinMs: int(setting('LOCKSTEP_THROTTLED_MIN_MS'), 'LOCKSTEP_THROTTLED_MIN_MS', 0, 86_400_000),
    retryAfterMaxMs: int(setting('LOCKSTEP_RETRY_AFTER_MAX_MS'), 'LOCKSTEP_RETRY_AFTER_MAX_MS', 1000, 7 * 86_400_000),
    disableAfterDeadMs: int(setting('LOCKSTEP_DISABLE_AFTER_DEAD_MS'), 'LOCKSTEP_DISABLE_AFTER_DEAD_MS', 0, 365 * 86_400_000),
    allowPrivateNetworks: bool(setting('LOCKSTEP_ALLOW_PRIVATE_NETWORKS'), 'LOCKSTEP_ALLOW_PRIVATE_NETWORKS'),
    allowCidrs: cidrs(setting('LOCKSTEP_ALLOW_CIDRS') ?? [], 'LOCKSTEP_ALLOW_CIDRS'),
    allowEvictingRedis: bool(setting('LOCKSTEP_ALLOW_EVICTING_REDIS'), 'LOCKSTEP_ALLOW_EVICTING_REDIS') ?? false,
    redisFsync: oneOf(setting('LOCKSTEP_REDIS_FSYNC') ?? 'everysec', 'LOCKSTEP_REDIS_FSYNC', ['always', 'everysec'] as const),
    logLevel: oneOf(setting('LOCKSTEP_LOG_LEVEL'), 'LOCKSTEP_LOG_LEVEL', LOG_LEVELS),
    dataDir: text(setting('LOCKSTEP_DATA_DIR'), 'LOCKSTEP_DATA_DIR'),
    bodyLimitBytes: int(setting('LOCKSTEP_BODY_LIMIT_BYTES'), 'LOCKSTEP_BODY_LIMIT_BYTES', 1024, 64 * 1024 * 1024),
    defaultTimeoutMs: int(setting('LOCKSTEP_DEFAULT_TIMEOUT_MS'), 'LOCKSTEP_DEFAULT_TIMEOUT_MS', 100, 300_000),
    maxMessagesPerTurn: int(setting('LOCKSTEP_MAX_MESSAGES_PER_TURN'), 'LOCKSTEP_MAX_MESSAGES_PER_TURN', 1, 100_000),
    maxTurnMs: int(setting('LOCKSTEP_MAX_TURN_MS'), 'LOCKSTEP_MAX_TURN_MS', 10, 600_000),
    metricsPort: env.LOCKSTEP_METRICS_PORT ? int(env.LOCKSTEP_METRICS_PORT, 'LOCKSTEP_METRICS_PORT', 0, 65535) : undefined,
    metricsReceiverLabels: bool(setting('LOCKSTEP_METRICS_RECEIVER_LABELS'), 'LOCKSTEP_METRICS_RECEIVER_LABELS') ?? false,
    reconcileEveryMs: int(setting('LOCKSTEP_RECONCILE_EVERY_MS'), 'LOCKSTEP_RECONCILE_EVERY_MS', 100, 3_600_000),
    metricsTokens: tokens(env.LOCKSTEP_METRICS_TOKEN ?? '', 'LOCKSTEP_METRICS_TOKEN'),
    metricsPublic: bool(setting('LOCKSTEP_METRICS_PUBLIC'), 'LOCKSTEP_METRICS_PUBLIC') ?? false,
    retentionMs: int(setting('LOCKSTEP_RETENTION_MS') ?? THIRTY_DAYS_MS, 'LOCKSTEP_RETENTION_MS', 1000, 10 * 365 * 86_400_000),
    requireKnownEventTypes: bool(setting('LOCKSTEP_REQUIRE_KNOWN_EVENT_TYPES'), 'LOCKSTEP_REQUIRE_KNOWN_EVENT_TYPES') ?? false,
    tracing: tracingConfig(env),
    egressProxy: egressProxy(env),
    unknownVariables: unknownVariables(env),
  };
}

/**
 * The Redis a process talks to, from the settings: the sentinels' master, or the URL (with
 * `LOCKSTEP_REDIS_PASSWORD` when the URL has none); undefined = none given (role `all` embeds one).
 */
export function redisTarget(config: Config): RedisTarget | undefined {
  if (config.redisCluster)
    return {
      cluster: config.redisCluster,
      ...(config.redisClusterNat ? { natMap: config.redisClusterNat } : {}),
      ...(config.redisPassword ? { password: config.redisPassword } : {}),
    };
  if (config.redisSentinels)
    return {
      sentinels: config.redisSentinels,
      name: config.redisSentinelName,
      ...(config.redisPassword ? { password: config.redisPassword } : {}),
      ...(config.redisSentinelPassword ? { sentinelPassword: config.redisSentinelPassword } : {}),
    };
  if (!config.redisUrl || !config.redisPassword) return config.redisUrl;
  const withPassword = new URL(config.redisUrl);
  if (!withPassword.password) withPassword.password = encodeURIComponent(config.redisPassword);
  return withPassword.toString();
}

/** A password from the environment: unset or empty = none; never echoed in an error. */
function optionalSecret(value: string | undefined, name: string): string | undefined {
  if (!value) return undefined;
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(value)) throw new ConfigError(`${name} must not contain control characters (a newline copied with it?)`);
  return value;
}

/** Comma list of bearer tokens; each must be sendable in an Authorization header. */
function tokens(value: string, name: string): string[] {
  const all = value
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  const bad = all.find((token) => !TOKEN.test(token));
  if (bad !== undefined)
    throw new ConfigError(
      `${name}: each comma-separated token must be letters, digits and -._~+/ only (no spaces), e.g. $(openssl rand -hex 24); token ${all.indexOf(bad) + 1} is not`,
    );
  return all;
}
