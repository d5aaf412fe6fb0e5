import { loadConfig, type Role } from '../../src/config/index.js';
import { createLogger } from '../../src/logger.js';
import { startLockstep, type Running } from '../../src/start.js';
import { ApiClient, TEST_TOKEN } from './lockstep.js';
import { freePort } from './ports.js';

/** Lockstep started inside the test process (real Redis, real HTTP), for API-level tests. */
export async function startInProcess(role: Role, env: Record<string, string>): Promise<{ running: Running; api: ApiClient }> {
  const port = await freePort();
  const config = loadConfig({ LOCKSTEP_PORT: String(port), LOCKSTEP_API_TOKEN: TEST_TOKEN, LOCKSTEP_LOG_LEVEL: 'warn', ...env });
  const running = await startLockstep(role, config, createLogger(config.logLevel));
  return { running, api: new ApiClient(running.url ?? `http://127.0.0.1:${port}`) };
}
