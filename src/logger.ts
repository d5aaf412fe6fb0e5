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

/**
 * A part's child logger: its `component`, and those of `names` (e.g. the emitter's id) the parent
 * does not bind already; pino would write a key bound twice twice in every line.
 */
export function componentLog(parent: Logger, component: string, names: Record<string, unknown> = {}): Logger {
  const bound = parent.bindings();
  return parent.child({ component, ...Object.fromEntries(Object.entries(names).filter(([name]) => !(name in bound))) });
}
