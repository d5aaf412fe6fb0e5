import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig } from '../../src/config/index.js';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const ENDPOINT = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' };

test('tracing is on only with an OTLP endpoint, over http/protobuf unless http/json is asked for', () => {
  assert.equal(loadConfig({}).tracing, undefined);
  assert.deepEqual(loadConfig(ENDPOINT).tracing, { protocol: 'http/protobuf' });
  assert.deepEqual(loadConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://collector/v1/traces' }).tracing, { protocol: 'http/protobuf' });
  assert.deepEqual(loadConfig({ ...ENDPOINT, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }).tracing, { protocol: 'http/json' });
  assert.deepEqual(
    loadConfig({ ...ENDPOINT, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json' }).tracing,
    { protocol: 'http/json' },
    'the traces-specific variable wins',
  );
  assert.equal(loadConfig({ ...ENDPOINT, OTEL_SDK_DISABLED: 'true' }).tracing, undefined);
});

test('bad tracing and proxy settings are configuration problems naming the variable', () => {
  const bad: Record<string, string>[] = [
    { OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' },
    { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'not a url' },
    { ...ENDPOINT, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' },
    { LOCKSTEP_EGRESS_PROXY: 'proxy.internal:3128' },
    { LOCKSTEP_EGRESS_PROXY: 'socks5://proxy.internal:1080' },
  ];
  for (const env of bad) {
    const name = Object.keys(env).at(-1) ?? '';
    assert.throws(
      () => loadConfig(env),
      (error: Error) => error instanceof ConfigError && error.message.includes(name),
      JSON.stringify(env),
    );
  }
  assert.equal(loadConfig({ LOCKSTEP_EGRESS_PROXY: 'http://proxy.internal:3128' }).egressProxy, 'http://proxy.internal:3128');
  assert.equal(loadConfig({}).egressProxy, undefined);
});

test('the CLI refuses a bad proxy URL with "configuration problem", exit 2', () => {
  const result = spawnSync(process.execPath, [CLI, 'emitter'], {
    env: { PATH: process.env.PATH ?? '', LOCKSTEP_REDIS_URL: 'redis://127.0.0.1:1', LOCKSTEP_EGRESS_PROXY: 'proxy:3128' },
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.equal(result.status, 2, result.stderr);
  assert.match(result.stderr, /^lockstep: configuration problem: LOCKSTEP_EGRESS_PROXY must be a http or https URL/);
});
