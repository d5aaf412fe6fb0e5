import type { ConfigFile } from './files.js';
import { fileKey, isFileSetting, SETTING_NAMES } from './settings.js';

/** One line of `lockstep config`: a setting, the value it was given (secrets masked) and where it came from. */
export interface SettingLine {
  name: string;
  value: string;
  source: string;
}

/** Given only to be used, never shown: tokens and passwords (a URL shows without its password). */
const SECRETS = new Set(['LOCKSTEP_API_TOKEN', 'LOCKSTEP_METRICS_TOKEN', 'LOCKSTEP_REDIS_PASSWORD', 'LOCKSTEP_REDIS_SENTINEL_PASSWORD']);

/** Read in other units than the setting is given in (seconds), or different in every process: their defaults are README's to tell. */
const NOT_SHOWN_AS_DEFAULT = new Set(['LOCKSTEP_RETRY_SCHEDULE', 'LOCKSTEP_STRICT_RETRY_SCHEDULE', 'LOCKSTEP_EMITTER_ID']);

/** What leaving these unset means, where that is more than "none" (README's table says it at length). */
const WHEN_UNSET: Readonly<Record<string, string>> = {
  LOCKSTEP_REDIS_URL: 'not set: role all runs its own redis-server; other roles need it (or Sentinels, a Cluster)',
  LOCKSTEP_API_TOKEN: 'not set: role all outside production makes one; other roles need it',
  LOCKSTEP_ALLOW_PRIVATE_NETWORKS: 'not set: allowed in role all outside production, else blocked',
  LOCKSTEP_EMITTER_ID: 'not set: <hostname>-<pid>',
  LOCKSTEP_CONFIG_DIR: "not set: the package's config/",
};

/**
 * Every setting with the value it was given and where: the environment, or the config file that
 * set it last; one set nowhere shows the value `loaded` holds for it, as the default, when it has
 * one of its own (else what its absence means). Call it after loadConfig() has accepted the same
 * environment and files (`read`): the values are shown as given, not parsed again.
 */
export function describeSettings(env: Record<string, string | undefined>, loaded: object, read: ConfigFile[]): SettingLine[] {
  const values = new Map<string, unknown>(Object.entries(loaded));
  const files = [...read].reverse(); // the last file read wins
  return SETTING_NAMES.map((name) => {
    const given = env[name];
    if (given !== undefined) return { name, value: shown(name, given), source: 'environment' };
    const key = isFileSetting(name) ? fileKey(name) : undefined;
    const file = key === undefined ? undefined : files.find((candidate) => key in candidate.values);
    if (key !== undefined && file) return { name, value: shown(name, JSON.stringify(file.values[key])), source: file.path };
    const fallback = NOT_SHOWN_AS_DEFAULT.has(name) || SECRETS.has(name) ? undefined : values.get(fileKey(name));
    const plain = fallback !== undefined && !(Array.isArray(fallback) && fallback.length === 0) && (typeof fallback !== 'object' || Array.isArray(fallback));
    return plain ? { name, value: JSON.stringify(fallback), source: 'not set: the default' } : { name, value: '', source: WHEN_UNSET[name] ?? 'not set' };
  });
}

function shown(name: string, value: string): string {
  if (SECRETS.has(name)) return name.endsWith('TOKEN') ? `(${value.split(',').filter((t) => t.trim()).length} token(s), hidden)` : '(hidden)';
  return value.replace(/(\w+:\/\/[^:/@\s]*:)[^@/\s]+@/g, '$1***@');
}
