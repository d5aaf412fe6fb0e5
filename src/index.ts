/**
 * The programmatic entry (package.json `main`, `types`, `exports`): run Lockstep inside another
 * Node process, as the CLI does and as the test suite does, e.g.
 * `await startLockstep('all', loadConfig(), createLogger('info'))`. Only these names are public;
 * everything else under dist/ may change without notice.
 */
export { loadConfig, type Config, type LockBackendName, type Role } from './config/index.js';
export { createLogger, type Logger } from './logger.js';
export { startLockstep, type Running } from './start.js';
export { VERSION } from './version.js';
