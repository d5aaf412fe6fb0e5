// `npm run client:generate`: starts Lockstep in this process (role all, its own embedded Redis in a
// temporary directory, a free port), reads the OpenAPI document it serves and rewrites
// src/client/schema.ts from it. Run it after changing a route schema; the OpenAPI test fails while
// the committed file is stale.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/index.js';
import { createLogger } from '../src/logger.js';
import { startLockstep } from '../src/start.js';
import { CLIENT_TYPES_FILE, renderClientTypes } from './client-types.js';

const dataDir = mkdtempSync(join(tmpdir(), 'lockstep-client-generate-'));
const config = loadConfig({ LOCKSTEP_PORT: '0', LOCKSTEP_DATA_DIR: dataDir, LOCKSTEP_API_TOKEN: 'client-generate', LOCKSTEP_LOG_LEVEL: 'warn' });
const running = await startLockstep('all', config, createLogger(config.logLevel));
try {
  const response = await fetch(`${running.url}/docs/json`);
  if (!response.ok) throw new Error(`/docs/json answered ${response.status}`);
  writeFileSync(CLIENT_TYPES_FILE, await renderClientTypes((await response.json()) as object));
  console.log(`wrote ${CLIENT_TYPES_FILE}`);
} finally {
  await running.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
