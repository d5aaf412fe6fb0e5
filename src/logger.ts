import { pino, type Logger } from 'pino';
import { REDACT_PATHS, serializeError } from './logger-redact.js';

export type { Logger };

/**
 * One JSON logger per process; every part takes a child with its own `component` field. Errors
 * are logged through a redacting serializer and known data fields are censored (logger-redact.ts).
 */
export function createLogger(level: string, base: Record<string, unknown> = {}): Logger {
  return pino({
    level,
    base: { pid: process.pid, ...base },
    timestamp: pino.stdTimeFunctions.isoTime,
    serializers: { err: serializeError, error: serializeError },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  });
}
