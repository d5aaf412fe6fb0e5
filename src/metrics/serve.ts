import { createServer } from 'node:http';
import type { Logger } from '../logger.js';
import type { Metrics } from './metrics.js';

/** An emitter's own `/metrics` endpoint (`LOCKSTEP_METRICS_PORT`); returns its stop function. */
export async function serveMetrics(metrics: Metrics, host: string, port: number, log: Logger): Promise<() => Promise<void>> {
  const server = createServer((request, response) => {
    if (request.url !== '/metrics') return void response.writeHead(404).end('try /metrics\n');
    metrics.registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
      () => response.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, host, resolve));
  log.info({ url: `http://${host}:${port}/metrics` }, 'emitter metrics listening');
  return () => new Promise((resolve) => server.close(() => resolve()));
}
