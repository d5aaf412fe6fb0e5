import { readFileSync } from 'node:fs';

const INCLUDE = /^--@include (\S+)$/gm;

/**
 * Reads a Lua script kept as a `.lua` file beside the module that uses it (BullMQ's layout), so
 * scripts are reviewed and diffed as Lua. The build copies them next to the compiled JavaScript.
 * A line `--@include includes/x.lua` is replaced by that file (relative to the script), so the
 * parts several scripts share are written once, as BullMQ's `includes` are.
 */
export function readLua(moduleUrl: string, relativePath: string): string {
  const url = new URL(relativePath, moduleUrl);
  return readFileSync(url, 'utf8').replace(INCLUDE, (_, include: string) => readLua(url.href, include));
}
