import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parse } from 'yaml';

/** No Docker engine runs here, so docker-compose.yml is checked by reading it. */
type Service = { command?: string[]; environment?: Record<string, string>; deploy?: { replicas?: number }; image?: string; build?: string };
const compose = parse(readFileSync(new URL('../docker-compose.yml', import.meta.url), 'utf8'), { merge: true }) as { services: Record<string, Service> };
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
