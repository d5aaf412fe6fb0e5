import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from './error.js';
import { checkFileKeys } from './settings.js';

const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A config file that exists, with its settings. */
export interface ConfigFile {
  path: string;
  values: Record<string, unknown>;
}

/** `config/default.json`, then `config/<NODE_ENV>.json` (in `LOCKSTEP_CONFIG_DIR` when set), those that exist, in that order: a later one wins. */
export function configFiles(env: Record<string, string | undefined>): ConfigFile[] {
  const dir = env.LOCKSTEP_CONFIG_DIR ?? join(PACKAGE_ROOT, 'config');
  const paths = [join(dir, 'default.json'), ...(env.NODE_ENV ? [join(dir, `${env.NODE_ENV}.json`)] : [])];
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
