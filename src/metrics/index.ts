// The metrics folder's public face: the other folders import from here.
export { Metrics } from './metrics.js';
export { QueueSnapshot } from './queue-snapshot.js';
export { serveMetrics } from './serve.js';
