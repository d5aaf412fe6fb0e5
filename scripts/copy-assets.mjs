// Copies the non-TypeScript files the code loads at run time (Lua scripts, UI assets) from src/ to
// dist/, keeping their paths, so `readLua(import.meta.url, …)` finds them beside the compiled code.
import { cpSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const ASSET = /\.(lua|html|css|svg|png|ico)$/;
const src = new URL('../src/', import.meta.url).pathname;
const dist = new URL('../dist/', import.meta.url).pathname;

/** @param {string} dir */
function copy(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) copy(path);
    else if (ASSET.test(name)) cpSync(path, join(dist, relative(src, path)));
  }
}
copy(src);
