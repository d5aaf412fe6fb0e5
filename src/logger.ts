import { pino, type Logger } from 'pino';

export type { Logger };

/** One JSON logger per process; every part takes a child with its own `component` field. */
export function createLogger(level: string, base: Record<string, unknown> = {}): Logger {
  return pino({ level, base: { pid: process.pid, ...base }, timestamp: pino.stdTimeFunctions.isoTime });
}
