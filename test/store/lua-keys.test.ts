import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

// Redis Cluster routes a script by the keys it is given, and a script may touch only those (issue
// 15): no script, nor any include, builds a key name. Checked on the sources: every key a command
// names is KEYS[n], KEYS unpacked or a variable (which the scripts fill from KEYS only), never a
// concatenation, and no string literal is a fragment of a key name (':msg:', ':heads:', ...:
// src/store/keys.ts). The cluster test lane (scripts/test.mjs) then runs the scripts on a real
// Redis Cluster.

const DIRS = ['src/store/lua', 'src/locks/lua'];
/** Commands whose first argument is not a key. */
const KEYLESS = new Set(['TIME', 'PUBLISH']);

function luaFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return luaFiles(path);
    return name.endsWith('.lua') ? [path] : [];
  });
}

/** The code without its comments (no script puts `--` inside a string). */
function code(path: string): string {
  return readFileSync(path, 'utf8').replace(/--.*$/gm, '');
}

/** The first argument after the command name of every redis.call/pcall: [command, argument]. */
function keyArguments(source: string): [string, string][] {
  const found: [string, string][] = [];
  for (const match of source.matchAll(/redis\.p?call\(\s*'([A-Za-z]+)'\s*(,)?/g)) {
    if (!match[2]) continue; // a command with no arguments
    let depth = 0;
    let end = (match.index ?? 0) + match[0].length;
    const start = end;
    for (; end < source.length; end++) {
      const c = source[end];
      if (c === '(' || c === '[' || c === '{') depth++;
      else if (c === ')' || c === ']' || c === '}') {
        if (depth === 0) break;
        depth--;
      } else if (c === ',' && depth === 0) break;
    }
    found.push([(match[1] as string).toUpperCase(), source.slice(start, end).trim()]);
  }
  return found;
}

describe('Lua scripts name every key they touch in KEYS', () => {
  const files = DIRS.flatMap(luaFiles);

  it('finds the scripts', () => {
    assert.ok(files.length > 20, `only ${files.length} scripts found`);
  });

  for (const file of files) {
    it(file, () => {
      const source = code(file);
      for (const [command, argument] of keyArguments(source)) {
        if (KEYLESS.has(command)) continue;
        assert.match(
          argument,
          /^(KEYS\[[^\]]+\]|unpack\(KEYS(, [^()]+)?\)|[A-Za-z_][\w.]*(\[\d+\])?)$/,
          `${command} on a key that is built, not given: ${argument}`,
        );
      }
      const fragments = [...source.matchAll(/'(:[a-z][^']*)'/g)].map((match) => match[1]);
      assert.deepEqual(fragments, [], 'a key name fragment: the script builds a key');
    });
  }
});
