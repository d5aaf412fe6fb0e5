import type { Logger } from '../logger.js';

/**
 * What the domain logs with. Each call may pass the request's own logger (fastify's, which adds
 * the request id to every line); the module's logger is the default.
 */
export type DomainLog = Pick<Logger, 'info' | 'warn'>;
