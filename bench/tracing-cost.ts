// CPU per delivery and per accepted message with tracing off and on (OTLP http/json and
// http/protobuf to the collector double of test/support). Not part of `npm run bench`: run it on
// its own, `npm run build && node --import tsx bench/tracing-cost.ts [deliveries] [rounds]`.
// Each round queues the deliveries through batch intake while the emitter is already running, and
// reads both processes' CPU (user + system, /proc) over the time it takes them all to arrive.
import { LockstepProcess, ApiClient, waitFor } from '../test/support/lockstep.js';
import { OtlpCollector } from '../test/support/otlp-collector.js';
import { TestReceiver } from '../test/support/receiver.js';
import { RedisServer } from '../test/support/redis.js';
import { cpuMs } from './cpu.js';

const deliveries = Number(process.argv[2] ?? 3000);
const rounds = Number(process.argv[3] ?? 2);
const collector = await OtlpCollector.start();
const variants: Record<string, Record<string, string>> = {
  off: {},
  'on, http/json': { OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' },
  'on, http/protobuf': { OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' },
};

for (let round = 1; round <= rounds; round++) {
  for (const [name, env] of Object.entries(variants)) {
    const redis = await RedisServer.start();
    const receiver = await TestReceiver.start();
    const common = { LOCKSTEP_REDIS_URL: redis.url, LOCKSTEP_LOG_LEVEL: 'warn', ...env };
    const api = await LockstepProcess.start('api', common);
    const emitter = await LockstepProcess.start('emitter', common);
    try {
      const client = new ApiClient(api.url ?? '');
      await client.createReceiver({ url: receiver.url('cost'), eventTypes: ['cost.*'] });
      const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
      const before = { api: cpuMs(api.pid), emitter: cpuMs(emitter.pid), at: performance.now() };
      for (let sent = 0; sent < deliveries; sent += 100) {
        const messages = Array.from({ length: Math.min(100, deliveries - sent) }, (_, i) => ({ eventType: 'cost.one', payload: { n: sent + i } }));
        const answer = await client.request('POST', '/v1/messages/batch', { messages }, { traceparent });
        if (answer.status !== 202) throw new Error(`batch: ${answer.status}`);
      }
      await waitFor('every delivery', () => receiver.for('cost').length >= deliveries, 120_000, 20);
      const apiMs = (cpuMs(api.pid) - before.api) / deliveries;
      const emitterMs = (cpuMs(emitter.pid) - before.emitter) / deliveries;
      const rate = deliveries / ((performance.now() - before.at) / 1000);
      console.log(
        `round ${round}, tracing ${name}: emitter ${emitterMs.toFixed(3)} ms CPU per delivery, api ${apiMs.toFixed(3)} ms per message, ${rate.toFixed(0)} deliveries/s`,
      );
    } finally {
      await emitter.stop();
      await api.stop();
      await receiver.close();
      await redis.destroy();
    }
  }
}
console.log(`spans recorded by the collector double: ${collector.spans.length} json, ${collector.protobufBodies.length} protobuf exports`);
await collector.close();
