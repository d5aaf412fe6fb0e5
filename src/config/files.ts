import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from './error.js';
import { checkFileKeys } from './settings.js';

/** Lockstep's own defaults, `default.json` here, are read first whatever LOCKSTEP_CONFIG_DIR says. */
const PACKAGE_CONFIG = fileURLToPath(new URL('../../config', import.meta.url));

/** A config file that exists, with its settings. */
export interface ConfigFile {
  path: string;
  values: Record<string, unknown>;
}

/**
 * The package's `config/default.json`, then `default.json` and `<NODE_ENV>.json` of
 * `LOCKSTEP_CONFIG_DIR` (the package's `config/` when unset), those that exist, in that order: a
 * later one wins, so a folder of one's own need only hold what it changes.
 */
export function configFiles(env: Record<string, string | undefined>): ConfigFile[] {
  const dir = resolve(env.LOCKSTEP_CONFIG_DIR ?? PACKAGE_CONFIG);
  const own = dir === resolve(PACKAGE_CONFIG) ? [] : [join(dir, 'default.json')];
  const paths = [join(PACKAGE_CONFIG, 'default.json'), ...own, ...(env.NODE_ENV ? [join(dir, `${env.NODE_ENV}.json`)] : [])];
  return paths.filter((path) => existsSync(path)).map((path) => ({ path, values: readJson(path) }));
}

function readJson(path: string): Record<string, unknown> {
  let file: unknown;
  try {
    file = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigError(`${path} is not valid JSON (${(error as Error).message}); fix or remove it`);
  }
  if (typeof file !== 'object' || file === null || Array.isArray(file))
    throw new ConfigError(`${path} must hold one JSON object of settings, e.g. {"port": 8080}`);
  checkFileKeys(path, file as Record<string, unknown>);
  return file as Record<string, unknown>;
}
