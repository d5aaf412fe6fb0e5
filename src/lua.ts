import { readFileSync } from 'node:fs';

/**
 * Reads a Lua script kept as a `.lua` file beside the module that uses it (BullMQ's layout), so
 * scripts are reviewed and diffed as Lua. The build copies them next to the compiled JavaScript.
 */
export function readLua(moduleUrl: string, relativePath: string): string {
  return readFileSync(new URL(relativePath, moduleUrl), 'utf8');
}
