import { readFileSync } from 'node:fs';

/** The package version, from package.json one level up from both src/ and dist/; read once, here only. */
export const VERSION: string = readVersion();

function readVersion(): string {
  const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  if (typeof version !== 'string') throw new Error('package.json has no version');
  return version;
}
