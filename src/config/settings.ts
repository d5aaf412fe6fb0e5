import { closest } from '../lib/closest.js';
import { ConfigError } from './error.js';

/**
 * Every LOCKSTEP_* variable Lockstep reads. Those a config file may hold too go by the name's
 * camelCase there (LOCKSTEP_RETRY_SCHEDULE: retrySchedule); the others are read from the
 * environment only (secrets, and what differs per process). Listed once, so that a name in neither
 * list can be pointed out instead of silently ignored.
 */
const FILE_SETTINGS = [
  'LOCKSTEP_HOST',
  'LOCKSTEP_PORT',
  'LOCKSTEP_REDIS_CLUSTER',
  'LOCKSTEP_REDIS_CLUSTER_NAT',
  'LOCKSTEP_REDIS_SENTINELS',
  'LOCKSTEP_REDIS_SENTINEL_NAME',
  'LOCKSTEP_REDIS_MIN_REPLICAS',
  'LOCKSTEP_REDIS_PREFIX',
  'LOCKSTEP_REDIS_SHARD_GROUPS',
  'LOCKSTEP_REDIS_FSYNC',
  'LOCKSTEP_ALLOW_EVICTING_REDIS',
  'LOCKSTEP_LOCK_BACKEND',
  'LOCKSTEP_ETCD_HOSTS',
  'LOCKSTEP_CONSUL_ADDR',
  'LOCKSTEP_LOCK_TTL_MS',
  'LOCKSTEP_EMITTER_CONCURRENCY',
  'LOCKSTEP_RETRY_SCHEDULE',
  'LOCKSTEP_STRICT_RETRY_SCHEDULE',
  'LOCKSTEP_BREAKER_FAILURES',
  'LOCKSTEP_THROTTLED_MIN_MS',
  'LOCKSTEP_RETRY_AFTER_MAX_MS',
  'LOCKSTEP_DISABLE_AFTER_DEAD_MS',
  'LOCKSTEP_ALLOW_PRIVATE_NETWORKS',
  'LOCKSTEP_ALLOW_CIDRS',
  'LOCKSTEP_LOG_LEVEL',
  'LOCKSTEP_DATA_DIR',
  'LOCKSTEP_BODY_LIMIT_BYTES',
  'LOCKSTEP_DEFAULT_TIMEOUT_MS',
  'LOCKSTEP_MAX_MESSAGES_PER_TURN',
  'LOCKSTEP_MAX_TURN_MS',
  'LOCKSTEP_RECONCILE_EVERY_MS',
  'LOCKSTEP_METRICS_RECEIVER_LABELS',
  'LOCKSTEP_METRICS_PUBLIC',
  'LOCKSTEP_RETENTION_MS',
  'LOCKSTEP_REQUIRE_KNOWN_EVENT_TYPES',
] as const;
const ENV_SETTINGS = [
  'LOCKSTEP_API_TOKEN',
  'LOCKSTEP_REDIS_URL',
  'LOCKSTEP_REDIS_PASSWORD',
  'LOCKSTEP_REDIS_SENTINEL_PASSWORD',
  'LOCKSTEP_EMITTER_ID',
  'LOCKSTEP_METRICS_PORT',
  'LOCKSTEP_METRICS_TOKEN',
  'LOCKSTEP_EGRESS_PROXY',
  'LOCKSTEP_CONFIG_DIR',
] as const;

/** A setting config/*.json may hold too. */
export type FileSetting = (typeof FILE_SETTINGS)[number];
export const SETTING_NAMES: readonly string[] = [...FILE_SETTINGS, ...ENV_SETTINGS];
const FILE_KEYS = FILE_SETTINGS.map(fileKey);
/** Names this repository's own test, benchmark and CI scripts use; they never configure a Lockstep process. */
const TOOLING = /^LOCKSTEP_((TEST|BENCH|CHAOS|CI)_|CHROMIUM$|LIBFAKETIME$|FUZZ_SEED$)/;

export const isFileSetting = (name: string): name is FileSetting => (FILE_SETTINGS as readonly string[]).includes(name);

/** The key a config file gives a setting by: LOCKSTEP_RETRY_SCHEDULE is retrySchedule. */
export function fileKey(name: string): string {
  return name
    .slice('LOCKSTEP_'.length)
    .toLowerCase()
    .replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());
}

/**
 * LOCKSTEP_* variables that are no setting (a typo, or one from another version): the environment
 * is shared with other programs, so they are pointed out (in the banner and the log), not refused.
 */
export function unknownVariables(env: Record<string, string | undefined>): string[] {
  return Object.keys(env)
    .filter((name) => name.startsWith('LOCKSTEP_') && !SETTING_NAMES.includes(name) && !TOOLING.test(name))
    .sort()
    .map((name) => {
      const near = closest(name, SETTING_NAMES);
      return `${name} is not a Lockstep setting and is ignored${near ? ` (did you mean ${near}?)` : ''}`;
    });
}

/** A config file is Lockstep's alone: a key it does not know is a mistake to fix before starting. */
export function checkFileKeys(path: string, file: Record<string, unknown>): void {
  const unknown = Object.keys(file).find((key) => !FILE_KEYS.includes(key));
  if (unknown !== undefined)
    throw new ConfigError(`${path}: "${unknown}" is not a setting a config file can hold${fileKeyHint(unknown)}; see README.md, "Configuration"`);
}

function fileKeyHint(key: string): string {
  const asVariable = FILE_SETTINGS.find((name) => name === key);
  if (asVariable) return ` (in a file it is "${fileKey(asVariable)}")`;
  const envOnly = ENV_SETTINGS.find((name) => name === key || fileKey(name) === key);
  if (envOnly) return ` (${envOnly} is read from the environment only)`;
  const near = closest(key, FILE_KEYS);
  return near ? ` (did you mean "${near}"?)` : '';
}
