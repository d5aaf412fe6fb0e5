import type { FastifyBaseLogger, FastifyRequest } from 'fastify';
import { levels, type Bindings, type ChildLoggerOptions } from 'pino';

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/**
 * `request.log`: the request's child logger (with its request id), made the first time the request
 * logs a line its level lets through. pino builds a child's bindings at once (about 1.5 µs with
 * redaction), on every request, while most requests log nothing at the usual levels.
 */
class RequestLog implements FastifyBaseLogger {
  private made: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private bindings: Bindings,
    private readonly options: ChildLoggerOptions,
  ) {}

  /** Adds to what every later line says, still without making the child. */
  bind(more: Bindings): void {
    if (this.made) this.made = this.made.child(more);
    else this.bindings = { ...this.bindings, ...more };
  }

  /** A route's `logLevel` comes as the child's option; else the parent's. */
  get level(): string {
    return this.options.level ?? this.parent.level;
  }

  fatal(...line: unknown[]): void {
    this.log('fatal', line);
  }

  error(...line: unknown[]): void {
    this.log('error', line);
  }

  warn(...line: unknown[]): void {
    this.log('warn', line);
  }

  info(...line: unknown[]): void {
    this.log('info', line);
  }

  debug(...line: unknown[]): void {
    this.log('debug', line);
  }

  trace(...line: unknown[]): void {
    this.log('trace', line);
  }

  silent(): void {}

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.real().child(bindings, options);
  }

  private real(): FastifyBaseLogger {
    return (this.made ??= this.parent.child(this.bindings, this.options));
  }

  private log(level: Level, line: unknown[]): void {
    // below the level: no child made (pino's own methods are no-ops there too)
    if ((levels.values[level] ?? 0) < (levels.values[this.level] ?? Infinity)) return;
    const logger = this.real();
    Reflect.apply(logger[level], logger, line);
  }
}

/** Says `more` on every later line of the request's log, as a child would, without making the child now. */
export function bindRequestLog(request: FastifyRequest, more: Bindings): void {
  if (request.log instanceof RequestLog) request.log.bind(more);
  else request.log = request.log.child(more);
}

/** Fastify's `childLoggerFactory`: a request's logger that costs nothing until it logs. */
export function requestLog(parent: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger {
  return new RequestLog(parent, bindings, options);
}
