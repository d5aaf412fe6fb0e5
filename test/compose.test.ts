import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { PROMTOOL, promtoolMissing } from './support/promtool.js';

/** No Docker engine runs here, so docker-compose.yml is checked by reading it. */
type Service = {
  command?: string[];
  environment?: Record<string, string>;
  deploy?: { replicas?: number };
  image?: string;
  build?: string;
  profiles?: string[];
  depends_on?: Record<string, unknown>;
  configs?: { source: string; target: string }[];
};
const compose = parse(readFileSync(new URL('../docker-compose.yml', import.meta.url), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
  configs: Record<string, { file?: string; content?: string }>;
};
const services = compose.services;
const CONFIG_VARIABLES: string[] = readFileSync(new URL('../src/config/index.ts', import.meta.url), 'utf8').match(/LOCKSTEP_[A-Z_]+/g) ?? [];

test('has redis, a 3-node etcd, a 3-node consul, one api and 3 emitter replicas', () => {
  for (const name of ['redis', 'etcd1', 'etcd2', 'etcd3', 'consul1', 'consul2', 'consul3', 'api', 'emitter']) assert.ok(services[name], name);
  assert.equal(services.emitter?.deploy?.replicas, 3);
  assert.deepEqual(services.api?.command, ['api']);
  assert.deepEqual(services.emitter?.command, ['emitter']);
});

test('redis keeps an AOF and never evicts', () => {
  const command = services.redis?.command?.join(' ') ?? '';
  assert.match(command, /--appendonly yes/);
  assert.match(command, /--maxmemory-policy noeviction/);
});

test('etcd and consul are real 3-member clusters', () => {
  for (const name of ['etcd1', 'etcd2', 'etcd3']) {
    const command = services[name]?.command?.join(' ') ?? '';
    assert.match(command, new RegExp(`--name=${name}`));
    assert.match(command, /--initial-cluster=etcd1=http:\/\/etcd1:2380,etcd2=http:\/\/etcd2:2380,etcd3=http:\/\/etcd3:2380/);
  }
  for (const name of ['consul1', 'consul2', 'consul3']) {
    const command = services[name]?.command?.join(' ') ?? '';
    assert.match(command, /-server/);
    assert.match(command, /-bootstrap-expect=3/);
  }
});

test('lockstep services share one environment, every variable one Lockstep reads, backend chosen by environment', () => {
  for (const name of ['api', 'emitter']) {
    const env = services[name]?.environment ?? {};
    assert.equal(env.LOCKSTEP_REDIS_URL, 'redis://redis:6379');
    assert.match(env.LOCKSTEP_LOCK_BACKEND ?? '', /^\$\{LOCKSTEP_LOCK_BACKEND:-redis\}$/);
    assert.equal(env.LOCKSTEP_ETCD_HOSTS, 'http://etcd1:2379,http://etcd2:2379,http://etcd3:2379');
    assert.match(env.LOCKSTEP_CONSUL_ADDR ?? '', /consul1:8500/);
    assert.equal(env.NODE_ENV, 'production');
    for (const variable of Object.keys(env).filter((v) => v.startsWith('LOCKSTEP_')))
      assert.ok(CONFIG_VARIABLES.includes(variable), `${name}: ${variable} is read by src/config`);
  }
});

test('the sentinel profile: a master, 2 replicas of it, 3 sentinels (quorum 2), and Lockstep pointed at the sentinels', () => {
  const profile = Object.entries(services).filter(([, service]) => service.profiles?.includes('sentinel'));
  assert.deepEqual(profile.map(([name]) => name).sort(), [
    'api-sentinel',
    'emitter-sentinel',
    'redis-primary',
    'redis-replica1',
    'redis-replica2',
    'sentinel1',
    'sentinel2',
    'sentinel3',
  ]);
  for (const name of ['redis-primary', 'redis-replica1', 'redis-replica2']) {
    const command = services[name]?.command?.join(' ') ?? '';
    assert.match(command, /--appendonly yes/, name);
    assert.match(command, /--maxmemory-policy noeviction/, name);
    assert.match(command, /--min-replicas-to-write 1/, name);
  }
  for (const name of ['redis-replica1', 'redis-replica2']) assert.match(services[name]?.command?.join(' ') ?? '', /--replicaof redis-primary 6379/);
  for (const name of ['sentinel1', 'sentinel2', 'sentinel3']) {
    const command = services[name]?.command?.join(' ') ?? '';
    assert.match(command, /sentinel monitor mymaster redis-primary 6379 2/, name);
    assert.match(command, /--sentinel$/, name);
  }
  for (const name of ['api-sentinel', 'emitter-sentinel']) {
    const service = services[name] as Service;
    const env = service.environment ?? {};
    assert.equal(env.LOCKSTEP_REDIS_SENTINELS, 'sentinel1:26379,sentinel2:26379,sentinel3:26379');
    assert.equal(env.LOCKSTEP_REDIS_SENTINEL_NAME, 'mymaster');
    assert.equal(env.LOCKSTEP_REDIS_URL, undefined, 'the sentinels name the master');
    assert.equal(env.LOCKSTEP_REDIS_MIN_REPLICAS, '1');
    assert.ok(!('redis' in (service.depends_on ?? {})), 'does not wait for the single Redis');
    for (const variable of Object.keys(env).filter((v) => v.startsWith('LOCKSTEP_')))
      assert.ok(CONFIG_VARIABLES.includes(variable), `${name}: ${variable} is read by src/config`);
  }
  assert.deepEqual(services['api-sentinel']?.command, ['api']);
  assert.deepEqual(services['emitter-sentinel']?.command, ['emitter']);
});

test('the monitoring profile: Prometheus scrapes the API and every emitter replica, with the alerting rules', (t) => {
  const prometheus = services.prometheus as Service;
  assert.deepEqual(prometheus.profiles, ['monitoring']);
  const mounted = new Map((prometheus.configs ?? []).map(({ source, target }) => [target, compose.configs[source]]));
  assert.equal(mounted.get('/etc/prometheus/lockstep-alerts.yml')?.file, './docs/prometheus-alerts.yml');
  const config = mounted.get('/etc/prometheus/prometheus.yml')?.content ?? '';
  const emitter = services.emitter?.environment ?? {};
  assert.equal(emitter.LOCKSTEP_HOST, '0.0.0.0', 'emitters serve /metrics to the compose network');
  assert.match(config, new RegExp(`names: \\[emitter\\]\\s+type: A\\s+port: ${emitter.LOCKSTEP_METRICS_PORT}`), "every replica's metrics port");
  assert.match(config, /targets: \["api:8080"\]/);
  // what Prometheus would load: compose's interpolation done, the rules where the profile mounts them
  const missing = promtoolMissing('compose Prometheus config');
  if (missing) return t.skip(missing);
  const dir = mkdtempSync(join(tmpdir(), 'lockstep-compose-'));
  const rules = new URL('../docs/prometheus-alerts.yml', import.meta.url).pathname;
  writeFileSync(join(dir, 'prometheus.yml'), config.replace('${LOCKSTEP_API_TOKEN}', 'a-token').replace('/etc/prometheus/lockstep-alerts.yml', rules));
  const run = spawnSync(PROMTOOL, ['check', 'config', join(dir, 'prometheus.yml')], { encoding: 'utf8' });
  assert.equal(run.status, 0, `${run.stdout}${run.stderr}`);
  // every rule of the file loaded (not a count kept here by hand)
  const written = (parse(readFileSync(rules, 'utf8')) as { groups: { rules: unknown[] }[] }).groups.flatMap((group) => group.rules).length;
  assert.match(run.stdout, new RegExp(`SUCCESS: ${written} rules found`));
});

test("the monitoring profile's Grafana: the profile's Prometheus as its data source, and the Lockstep dashboard provisioned", () => {
  const grafana = services.grafana as Service;
  assert.deepEqual(grafana.profiles, ['monitoring']);
  const mounted = new Map((grafana.configs ?? []).map(({ source, target }) => [target, compose.configs[source]]));
  const dashboard = [...mounted].find(([, config]) => config?.file === './docs/grafana-dashboard.json')?.[0] ?? '';
  const sources = parse(mounted.get('/etc/grafana/provisioning/datasources/lockstep.yml')?.content ?? '') as { datasources: { type: string; url: string }[] };
  assert.deepEqual(
    sources.datasources.map(({ type, url }) => [type, url]),
    [['prometheus', 'http://prometheus:9090']],
  );
  const providers = parse(mounted.get('/etc/grafana/provisioning/dashboards/lockstep.yml')?.content ?? '') as { providers: { options: { path: string } }[] };
  assert.equal(`${providers.providers[0]?.options.path}/lockstep.json`, dashboard, 'the provider reads the folder the dashboard is mounted in');
  assert.ok('prometheus' in (grafana.depends_on ?? {}), 'started after Prometheus');
});
