import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
import { ApiClient, LockstepProcess, waitFor } from '../support/lockstep.js';
import { startInProcess } from '../support/in-process.js';
import { OtlpCollector, type CollectedSpan } from '../support/otlp-collector.js';
import { TestReceiver } from '../support/receiver.js';
import { RedisServer } from '../support/redis.js';

const SERVER = 2;
const CLIENT = 3;
const hex = (bytes: number): string => randomBytes(bytes).toString('hex');
const traceIdOf = (traceparent: string | undefined): string => traceparent?.split('-')[1] ?? '';
const spanIdOf = (traceparent: string | undefined): string => traceparent?.split('-')[2] ?? '';

/** Exports every 100 ms (the SDK reads OTEL_BSP_SCHEDULE_DELAY), so a test waits little. */
const otel = (collector: OtlpCollector, protocol: string, extra: Record<string, string> = {}): Record<string, string> => ({
  OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint,
  OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
  OTEL_SERVICE_NAME: 'lockstep-under-test',
  OTEL_BSP_SCHEDULE_DELAY: '100',
  ...extra,
});

describe('OpenTelemetry traces, producer → Lockstep → receiver, on real processes', () => {
  let redis: RedisServer;
  let receiver: TestReceiver;
  let collector: OtlpCollector;
  let api: LockstepProcess;
  let emitter: LockstepProcess | undefined;
  let client: ApiClient;
  before(async () => {
    [redis, receiver, collector] = await Promise.all([RedisServer.start(), TestReceiver.start(), OtlpCollector.start()]);
    api = await LockstepProcess.start('api', { LOCKSTEP_REDIS_URL: redis.url, ...otel(collector, 'http/json') });
    emitter = await LockstepProcess.start('emitter', { LOCKSTEP_REDIS_URL: redis.url, ...otel(collector, 'http/json') });
    client = new ApiClient(api.url ?? '');
  });
  after(async () => {
    await emitter?.stop();
    await api?.stop();
    await Promise.all([receiver?.close(), collector?.close(), redis?.destroy()]);
  });

  const spansOf = (traceId: string): CollectedSpan[] => collector.spans.filter((span) => span.traceId === traceId);

  test("one trace id: the producer's traceparent, the intake span, the attempt span, the receiver's traceparent", async () => {
    const { id: receiverId } = await client.createReceiver({ url: receiver.url('traced'), eventTypes: ['trace.*'] });
    const producer = { traceId: hex(16), spanId: hex(8) };
    const accepted = await client.request<{ id: string }>(
      'POST',
      '/v1/messages',
      { eventType: 'trace.me', payload: { n: 1 } },
      { traceparent: `00-${producer.traceId}-${producer.spanId}-01` },
    );
    assert.equal(accepted.status, 202);
    await waitFor('the delivery', () => receiver.for('traced').length === 1);
    const sent = receiver.for('traced')[0]?.headers.traceparent;
    assert.equal(traceIdOf(sent), producer.traceId, 'the receiver continues the producer trace');

    await waitFor('the intake and attempt spans', () => spansOf(producer.traceId).length >= 2);
    const intake = spansOf(producer.traceId).find((span) => span.kind === SERVER);
    const attempt = spansOf(producer.traceId).find((span) => span.kind === CLIENT);
    assert.ok(intake && attempt, JSON.stringify(spansOf(producer.traceId)));
    assert.equal(intake.name, 'POST /v1/messages');
    assert.equal(intake.service, 'lockstep-under-test', 'OTEL_SERVICE_NAME is read');
    assert.equal(intake.parentSpanId, producer.spanId, "the intake span is the producer's child");
    assert.equal(intake.attributes['http.response.status_code'], 202);
    assert.equal(attempt.parentSpanId, intake.spanId, "the attempt is the intake span's child");
    assert.equal(spanIdOf(sent), attempt.spanId, "the receiver's parent is the attempt span");
    assert.equal(attempt.attributes['lockstep.receiver.id'], receiverId);
    assert.equal(attempt.attributes['lockstep.message.id'], accepted.body.id);
    assert.equal(attempt.attributes['lockstep.attempt'], 1);
    assert.equal(attempt.attributes['lockstep.fence'], receiver.for('traced')[0]?.fence);
    assert.equal(attempt.attributes['http.response.status_code'], 200);
    assert.equal(typeof attempt.attributes['lockstep.lock_wait_ms'], 'number');
    assert.equal(attempt.statusCode, 0, 'a delivered attempt is no error');
  });

  test('a batch: every message continues the one request span', async () => {
    await client.createReceiver({ url: receiver.url('batched'), eventTypes: ['batch.*'] });
    const traceId = hex(16);
    const messages = [1, 2].map((n) => ({ eventType: 'batch.one', payload: { n } }));
    const accepted = await client.request('POST', '/v1/messages/batch', { messages }, { traceparent: `00-${traceId}-${hex(8)}-01` });
    assert.equal(accepted.status, 202);
    await waitFor('both deliveries', () => receiver.for('batched').length === 2);
    assert.deepEqual(
      receiver.for('batched').map((request) => traceIdOf(request.headers.traceparent)),
      [traceId, traceId],
    );
    await waitFor('one request span and two attempt spans', () => spansOf(traceId).length >= 3);
    const [intake, ...others] = [...spansOf(traceId)].sort((a, b) => a.kind - b.kind);
    assert.equal(intake?.name, 'POST /v1/messages/batch');
    assert.deepEqual(
      others.map((span) => [span.kind, span.parentSpanId]),
      [
        [CLIENT, intake?.spanId],
        [CLIENT, intake?.spanId],
      ],
    );
  });

  test('without a traceparent the intake starts the trace; a failed attempt is an error span', async () => {
    receiver.set('flaky', { status: 500 });
    await client.createReceiver({ url: receiver.url('flaky'), eventTypes: ['flaky.*'] });
    await client.post('flaky.one', {});
    await waitFor('the failed attempt', () => receiver.for('flaky').length === 1);
    const first = receiver.for('flaky')[0]?.headers.traceparent;
    const traceId = traceIdOf(first);
    assert.match(traceId, /^[0-9a-f]{32}$/);
    await waitFor('its spans', () => spansOf(traceId).length >= 2);
    const intake = spansOf(traceId).find((span) => span.kind === SERVER);
    const attempt = spansOf(traceId).find((span) => span.kind === CLIENT);
    assert.equal(intake?.parentSpanId, '', 'a root span');
    assert.equal(attempt?.parentSpanId, intake?.spanId);
    assert.equal(attempt?.attributes['http.response.status_code'], 500);
    assert.equal(attempt?.attributes['error.type'], '500');
    assert.equal(attempt?.statusCode, 2, 'a failed attempt is an error span');
  });

  test('http/protobuf reaches the collector too, and SIGTERM flushes what is buffered', async () => {
    await emitter?.stop();
    // a 60 s export delay: only the flush at shutdown can send the attempt span in time
    emitter = await LockstepProcess.start('emitter', {
      LOCKSTEP_REDIS_URL: redis.url,
      ...otel(collector, 'http/protobuf', { OTEL_BSP_SCHEDULE_DELAY: '60000' }),
    });
    await client.createReceiver({ url: receiver.url('proto'), eventTypes: ['proto.*'] });
    await client.post('proto.one', {});
    await waitFor('the delivery', () => receiver.for('proto').length === 1);
    const traceId = traceIdOf(receiver.for('proto')[0]?.headers.traceparent);
    assert.equal(collector.protobufHolds(traceId), false, 'still buffered');
    assert.equal(await emitter?.stop(), 0);
    assert.ok(collector.protobufHolds(traceId, 'POST webhook'), 'the attempt span arrived as protobuf at shutdown');
    emitter = undefined;
  });
});

describe('tracing off', () => {
  let redis: RedisServer;
  let receiver: TestReceiver;
  before(async () => {
    [redis, receiver] = await Promise.all([RedisServer.start(), TestReceiver.start()]);
  });
  after(async () => {
    await Promise.all([receiver?.close(), redis?.destroy()]);
  });

  test('loads no OpenTelemetry SDK or exporter, and passes the producer traceparent on unchanged', async () => {
    // in this process: the OpenTelemetry packages are CommonJS, so an import of any would show in require's cache
    const { running, api } = await startInProcess('all', { LOCKSTEP_REDIS_URL: redis.url, LOCKSTEP_ALLOW_PRIVATE_NETWORKS: 'true' });
    try {
      await api.createReceiver({ url: receiver.url('plain'), eventTypes: ['plain.*'] });
      const traceparent = `00-${hex(16)}-${hex(8)}-01`;
      const accepted = await api.request('POST', '/v1/messages', { eventType: 'plain.one', payload: {} }, { traceparent });
      assert.equal(accepted.status, 202);
      const plain = await api.post('plain.two', {});
      await waitFor('both deliveries', () => receiver.for('plain').length === 2);
      const [withContext, without] = receiver.for('plain');
      assert.equal(withContext?.headers.traceparent, traceparent, 'passed on as it came');
      assert.equal(without?.headers.traceparent, undefined, 'none made up');
      assert.ok(plain.id);
      // @opentelemetry/api itself is loaded by prom-client (its process metrics read it for exemplars): not the SDK
      const loaded = Object.keys(createRequire(import.meta.url).cache).filter((path) => /@opentelemetry\/(?!api\/)/.test(path));
      assert.deepEqual(loaded, []);
    } finally {
      await running.stop();
    }
  });
});
