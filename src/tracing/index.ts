import type { TracingConfig } from '../config/index.js';
import type { Logger } from '../logger.js';
import type { Tracing } from './types.js';

export type { AttemptFields, TracedSpan, Tracing } from './types.js';
export { validTraceparent } from './types.js';

export interface TracingIdentity {
  role: string;
  instanceId: string;
  version: string;
}

/**
 * Starts OpenTelemetry trace export when it is configured. The SDK and the exporter are imported
 * here, dynamically, so a process without an OTLP endpoint never loads them: tracing off costs an
 * `undefined` check on the hot path and nothing else.
 */
export async function startTracing(config: TracingConfig | undefined, identity: TracingIdentity, log: Logger): Promise<Tracing | undefined> {
  if (!config) return undefined;
  const { startOtelTracing } = await import('./otel.js');
  const tracing = await startOtelTracing(config, identity);
  log.info({ protocol: config.protocol, role: identity.role }, 'exporting OpenTelemetry traces (OTLP)');
  return tracing;
}
