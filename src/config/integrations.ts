import { oneOf, url } from './parse.js';

type Env = Record<string, string | undefined>;

/** OpenTelemetry export, on when an OTLP endpoint is set (the SDK reads the other OTEL_* variables itself). */
export interface TracingConfig {
  protocol: 'http/protobuf' | 'http/json';
}

/**
 * Tracing is on when `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or `OTEL_EXPORTER_OTLP_ENDPOINT` is set
 * (and `OTEL_SDK_DISABLED` is not `true`). Only what Lockstep itself decides is checked here: the
 * endpoint must be an http(s) URL and the protocol one it ships an exporter for (no gRPC).
 */
export function tracingConfig(env: Env): TracingConfig | undefined {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return undefined;
  const [name, endpoint] = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
    ? ['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT]
    : ['OTEL_EXPORTER_OTLP_ENDPOINT', env.OTEL_EXPORTER_OTLP_ENDPOINT];
  if (!endpoint) return undefined;
  url(endpoint, name, ['http:', 'https:'], 'http://otel-collector:4318');
  const protocolName = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL' : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  const protocol = oneOf(env[protocolName] ?? 'http/protobuf', protocolName, ['http/protobuf', 'http/json'] as const);
  return { protocol };
}

/** `LOCKSTEP_EGRESS_PROXY`: the HTTP CONNECT proxy every delivery goes through, if any. */
export function egressProxy(env: Env): string | undefined {
  const value = env.LOCKSTEP_EGRESS_PROXY;
  return value ? url(value, 'LOCKSTEP_EGRESS_PROXY', ['http:', 'https:'], 'http://proxy.internal:3128') : undefined;
}
