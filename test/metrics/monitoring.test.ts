import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse } from 'yaml';
import { quickRetries, useLockstep } from '../support/in-process.js';
import { PROMTOOL, promtoolMissing } from '../support/promtool.js';
import { waitFor } from '../support/ports.js';

/** The rules and the dashboard users load (README: "Prometheus"). */
const RULES = new URL('../../docs/prometheus-alerts.yml', import.meta.url).pathname;
const DASHBOARD = new URL('../../docs/grafana-dashboard.json', import.meta.url).pathname;

interface Rule {
  alert: string;
  expr: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}
const rules = (parse(readFileSync(RULES, 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap((group) => group.rules);
const panels = (JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: { title: string; targets: { expr: string }[] }[] }).panels;
/** Every query the alerts and the dashboard make ($__rate_interval is Grafana's: 5m here). */
const queries = [
  ...rules.map((rule) => ({ by: rule.alert, expr: rule.expr })),
  ...panels.flatMap((panel) => panel.targets.map((target) => ({ by: `panel "${panel.title}"`, expr: target.expr.replaceAll('$__rate_interval', '5m') }))),
];

/**
 * One promtool unit test: `series` (promtool's notation, a sample a minute) evaluated at `at` fire
 * `alert` once per entry of `firing` (the labels beside the rule's own), or not at all. `shown`
 * gives what each template in the annotations renders to; the rest of their text stands as written.
 */
interface Case {
  alert: string;
  series: Record<string, string>;
  at: string;
  firing: Record<string, string>[];
  shown?: Record<string, string>;
}

const attempts = (outcome: string): string => `lockstep_delivery_attempts_total{outcome="${outcome}"}`;
const lost = (cause: string): string => `lockstep_locks_lost_total{cause="${cause}"}`;
const lag = (le: string): string => `lockstep_delivery_lag_seconds_bucket{le="${le}"}`;
const fleet = (role: string): string => `lockstep_fleet_processes{role="${role}"}`;
const events = (result: string): string => `lockstep_operational_events_total{type="lockstep.delivery.dead",result="${result}"}`;
const OLDEST = 'lockstep_oldest_pending_age_seconds{state="pending"}';

const CASES: Case[] = [
  {
    alert: 'LockstepDown',
    series: { 'up{job="lockstep-emitters",instance="e1:9464"}': '1 1 0 0 0 0', 'up{job="lockstep-api",instance="api:8080"}': '1x6' },
    at: '5m',
    firing: [{ job: 'lockstep-emitters', instance: 'e1:9464' }],
    shown: { '{{ $labels.job }}': 'lockstep-emitters', '{{ $labels.instance }}': 'e1:9464' },
  },
  {
    alert: 'LockstepNoEmitter',
    series: { [fleet('api')]: '1x5', [fleet('emitter')]: '1 1 0 0 0 0', [fleet('all')]: '0x5' },
    at: '5m',
    firing: [{}],
  },
  { alert: 'LockstepNoEmitter', series: { [fleet('api')]: '1x5', [fleet('emitter')]: '0x5', [fleet('all')]: '1x5' }, at: '5m', firing: [] },
  { alert: 'LockstepBacklogOld', series: { [OLDEST]: '0+60x30' }, at: '25m', firing: [{}], shown: { '{{ $value | humanizeDuration }}': '25m 0s' } },
  { alert: 'LockstepBacklogOld', series: { [OLDEST]: '0+30x30', 'lockstep_oldest_pending_age_seconds{state="retrying"}': '5000x30' }, at: '25m', firing: [] },
  { alert: 'LockstepDeliveriesDead', series: { [attempts('dead')]: '0 0 0 3 3 3' }, at: '5m', firing: [{}] },
  { alert: 'LockstepDeliveriesDead', series: { [attempts('dead')]: '2x5', [attempts('failed')]: '0+5x5' }, at: '5m', firing: [] },
  { alert: 'LockstepReceiverGone', series: { [attempts('gone')]: '0 1 1' }, at: '2m', firing: [{}] },
  {
    alert: 'LockstepAttemptsFailing',
    series: { [attempts('delivered')]: '0+30x30', [attempts('failed')]: '0+20x30' },
    at: '25m',
    firing: [{}],
    shown: { '{{ $value | humanizePercentage }}': '40%' },
  },
  { alert: 'LockstepAttemptsFailing', series: { [attempts('delivered')]: '0+30x30', [attempts('failed')]: '0+3x30' }, at: '25m', firing: [] },
  {
    alert: 'LockstepDeliveryLagHigh',
    series: { [lag('10')]: '0x30', [lag('30')]: '0x30', [lag('60')]: '0+10x30', [lag('+Inf')]: '0+10x30' },
    at: '25m',
    firing: [{}],
    shown: { '{{ $value | humanizeDuration }}': '45s' },
  },
  { alert: 'LockstepDeliveryLagHigh', series: { [lag('10')]: '0+10x30', [lag('+Inf')]: '0+10x30' }, at: '25m', firing: [] },
  { alert: 'LockstepEmitterFenced', series: { [lost('fenced')]: '0 0 1 1 1' }, at: '4m', firing: [{}] },
  { alert: 'LockstepEmitterFenced', series: { [lost('fenced')]: '0x4', [lost('deadline')]: '0 0 1 1 1' }, at: '4m', firing: [] },
  { alert: 'LockstepLocksLost', series: { [lost('deadline')]: '0 0 2 2' }, at: '3m', firing: [{}] },
  { alert: 'LockstepLocksLost', series: { [lost('fenced')]: '0 0 2 2' }, at: '3m', firing: [] },
  {
    alert: 'LockstepBackendErrors',
    series: { 'lockstep_backend_errors_total{backend="lock"}': '0+1x20', 'lockstep_backend_errors_total{backend="redis"}': '0x20' },
    at: '10m',
    firing: [{ backend: 'lock' }],
    shown: { '{{ if eq $labels.backend "lock" }}the lock backend{{ else }}Redis{{ end }}': 'the lock backend' },
  },
  {
    alert: 'LockstepOperationalEventsLost',
    series: { [events('lost')]: '0 0 1 1', [events('published')]: '0+5x3' },
    at: '3m',
    firing: [{ type: 'lockstep.delivery.dead' }],
    shown: { '{{ $labels.type }}': 'lockstep.delivery.dead' },
  },
  { alert: 'LockstepOperationalEventsLost', series: { [events('lost')]: '0x3', [events('published')]: '0+5x3' }, at: '3m', firing: [] },
  { alert: 'LockstepBreakerOpened', series: { lockstep_breaker_openings_total: '0 1 1' }, at: '2m', firing: [{}] },
];

/** The annotations `rule` shows with `shown` for its templates; a template left unrendered fails. */
function rendered(rule: Rule, shown: Record<string, string> = {}): Record<string, string> {
  return Object.fromEntries(
    Object.entries(rule.annotations).map(([name, template]) => {
      const text = Object.entries(shown).reduce((acc, [from, to]) => acc.replaceAll(from, to), template);
      assert.ok(!text.includes('{{'), `${rule.alert}.${name}: say what "${text}" renders to`);
      return [name, text];
    }),
  );
}

const missing = promtoolMissing('alert rule');

describe('the Prometheus alerting rules', { skip: missing }, () => {
  test('promtool accepts them, and each alert fires on its case and stays quiet on the near miss', () => {
    const byName = new Map(rules.map((rule) => [rule.alert, rule]));
    assert.deepEqual([...new Set(CASES.map((c) => c.alert))].sort(), [...byName.keys()].sort(), 'a case for every alert, an alert for every case');
    const tests = CASES.map((c) => {
      const rule = byName.get(c.alert) as Rule;
      const annotations = c.firing.length ? rendered(rule, c.shown) : {};
      return {
        interval: '1m',
        input_series: Object.entries(c.series).map(([series, values]) => ({ series, values })),
        alert_rule_test: [
          {
            eval_time: c.at,
            alertname: c.alert,
            exp_alerts: c.firing.map((labels) => ({ exp_labels: { ...rule.labels, ...labels }, exp_annotations: annotations })),
          },
        ],
      };
    });
    const file = join(mkdtempSync(join(tmpdir(), 'lockstep-alerts-')), 'tests.json'); // JSON is YAML to promtool
    writeFileSync(file, JSON.stringify({ rule_files: [RULES], evaluation_interval: '1m', tests }));
    for (const args of [
      ['check', 'rules', RULES],
      ['test', 'rules', file],
    ]) {
      promtool(args);
    }
  });

  test('promtool parses every query of the Grafana dashboard', () => {
    const records = queries.map(({ expr }, n) => ({ record: `lockstep:query_${n}`, expr }));
    const file = join(mkdtempSync(join(tmpdir(), 'lockstep-dashboard-')), 'queries.json');
    writeFileSync(file, JSON.stringify({ groups: [{ name: 'dashboard', rules: records }] }));
    promtool(['check', 'rules', file]);
  });
});

function promtool(args: string[]): void {
  const run = spawnSync(PROMTOOL, args, { encoding: 'utf8' });
  assert.equal(run.status, 0, `promtool ${args.join(' ')}:\n${run.stdout}${run.stderr}`);
}

describe('the series the alerts and the dashboard watch', () => {
  const context = useLockstep('all', quickRetries());

  test('are served by Lockstep, with the label values the queries match; every Lockstep series has a panel', async () => {
    const { api, receiver } = context();
    receiver.set('broken', { status: 500 });
    receiver.set('gone', { status: 410 });
    for (const name of ['broken', 'gone', 'fine']) await api.createReceiver({ url: receiver.url(name), eventTypes: ['alerts.*'] });
    let text = '';
    const scrape = async (): Promise<void> => {
      text = await (await fetch(`${api.url}/metrics`, { headers: { authorization: `Bearer ${api.token}` } })).text();
    };
    const served = (pattern: string): boolean => new RegExp(`^${pattern}`, 'm').test(text);
    const counted = (outcome: string, value: string): boolean => served(`lockstep_delivery_attempts_total\\{outcome="${outcome}"\\} ${value}`);
    // at 0 before anything happened: increase() then sees the first dead delivery (a series born at 1 has no earlier sample)
    await scrape();
    for (const outcome of ['dead', 'gone', 'failed']) assert.ok(counted(outcome, '0$'), `${outcome} attempts at 0 from the start`);
    assert.ok(served('lockstep_backend_errors_total\\{backend="lock"\\} 0$'), 'backend errors at 0 from the start');
    await api.post('alerts.event', {});
    await waitFor(
      'a dead, a gone and a delivered attempt counted, and this process seen in the fleet',
      async () => {
        await scrape();
        return ['dead', 'gone', 'delivered'].every((outcome) => counted(outcome, '[1-9]')) && served('lockstep_fleet_processes\\{role="all"\\} 1$');
      },
      15_000,
      100,
    );
    for (const { by, expr } of queries) {
      const names = [...expr.matchAll(/\b(lockstep_[a-z_]+)/g)].map(([, name]) => name as string);
      assert.ok(names.length > 0 || by === 'LockstepDown', `${by} watches a Lockstep series`);
      for (const name of names) assert.ok(served(`${name}[{ ]`), `${by}: Lockstep serves ${name}`);
      for (const [, name, matchers] of expr.matchAll(/\b(lockstep_[a-z_]+)\{([^}]*)\}/g))
        for (const [, label, values] of (matchers as string).matchAll(/([a-z_]+)=~?"([^"]*)"/g))
          for (const value of (values as string).split('|'))
            assert.ok(served(`${name}\\{[^}]*\\b${label}="${value.replace('+', '\\+')}"`), `${by}: Lockstep serves ${name} with ${label}="${value}"`);
    }
    // Lockstep's own families (not the process and Node.js ones), each on the dashboard
    const families = [...text.matchAll(/^# TYPE (lockstep_[a-z_]+) /gm)]
      .map(([, name]) => name as string)
      .filter((name) => !/^lockstep_(process|nodejs)_/.test(name));
    const shown = panels.flatMap((panel) => panel.targets.map((target) => target.expr)).join(' ');
    assert.deepEqual(
      families.filter((name) => !new RegExp(`\\b${name}(_bucket)?\\b`).test(shown)),
      [],
      'a panel for every series',
    );
  });
});

describe("the API's /metrics while Redis is away", () => {
  const context = useLockstep('api', {});

  test('answers within seconds, leaving out what it reads from Redis; those come back with Redis', async () => {
    const { api, redis } = context();
    const scrape = async (): Promise<{ status: number; text: string; ms: number }> => {
      const started = Date.now();
      const response = await fetch(`${api.url}/metrics`, { headers: { authorization: `Bearer ${api.token}` } });
      return { status: response.status, text: await response.text(), ms: Date.now() - started };
    };
    const fromRedis = /^lockstep_(queue_depth|oldest_pending_age_seconds|fleet_processes)\{/m;
    await waitFor('the fleet and queue gauges served', async () => fromRedis.test((await scrape()).text), 10_000, 100);
    await redis.stop();
    try {
      await sleep(600); // past the queue snapshot's 500 ms reuse
      const away = await scrape();
      assert.equal(away.status, 200);
      assert.ok(away.ms < 8_000, `answered in ${away.ms} ms (a scrape times out after 10 s by default)`);
      assert.doesNotMatch(
        away.text,
        fromRedis,
        `no stale or made-up queue and fleet figures: ${away.text
          .split('\n')
          .filter((line) => fromRedis.test(line))
          .join('; ')}`,
      );
      assert.match(away.text, /^lockstep_process_cpu_seconds_total /m, "the process's own metrics still there");
    } finally {
      await redis.start();
    }
    await waitFor('the gauges back with Redis', async () => fromRedis.test((await scrape()).text), 15_000, 200);
  });
});
