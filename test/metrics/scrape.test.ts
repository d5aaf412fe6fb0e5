import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { before, describe, test } from 'node:test';
import { CommandDelta, commandCounts } from '../../bench/redis-stats.js';
import { Store } from '../../src/store/index.js';
import { useLockstep } from '../support/in-process.js';
import type { ApiClient } from '../support/lockstep.js';
import { receiverSettings } from '../support/store.js';
import { EMPTY_CATALOG } from '../../src/store/event-types.js';

const RECEIVERS = 20_000;
const WITH_WORK = 1000;

/** One scrape: status, time to the last byte, the body. */
async function scrape(url: string, token?: string): Promise<{ status: number; ms: number; text: string }> {
  const started = performance.now();
  const response = await fetch(`${url}/metrics`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  const text = await response.text();
  return { status: response.status, ms: performance.now() - started, text };
}

/**
 * Issue 12 item 3: the queue gauges of /metrics (and GET /v1/stats) cost a few Redis commands
 * whatever the number of receivers: with 20,000 receivers (1,000 of them with a backlog) a scrape
 * runs under 50 commands (INFO commandstats) and answers in under 50 ms. The scan it replaces ran
 * 4 commands per receiver (80,001).
 */
describe('a scrape with 20,000 receivers', () => {
  const context = useLockstep('api', {});
  let api: ApiClient;
  before(async () => {
    api = context().api;
    const store = new Store(context().redis.url, 'lockstep', { disableAfterDeadMs: 3_600_000 });
    await store.connect();
    const ids: string[] = [];
    for (let i = 0; i < RECEIVERS; i += 500) {
      const batch = Array.from({ length: Math.min(500, RECEIVERS - i) }, () => store.receivers.create(receiverSettings()));
      ids.push(...(await Promise.all(batch)).map((receiver) => receiver.id));
    }
    await store.messages.acceptMany(
      ids.slice(0, WITH_WORK).flatMap((id) => [0, 1].map((n) => ({ eventType: 'scale.event', payload: { n }, receiverIds: [id] }))),
      EMPTY_CATALOG,
    );
    await store.close();
  });

  test('under 50 Redis commands and 50 ms, with the right depths', async (t) => {
    const admin = context().redis.client();
    try {
      // Every scrape must stay under 50 commands; the time is the fastest of at least 3 and at
      // most 10, so a CI lane that starves this process for a moment (two cores shared with a
      // fault lane) does not stand in for the scrape's own cost.
      const runs: { commands: number; ms: number; detail: string }[] = [];
      while (runs.length < 3 || (runs.length < 10 && Math.min(...runs.map((r) => r.ms)) >= 50)) {
        await sleep(600); // past the snapshot's 500 ms reuse: each scrape reads Redis
        const before = await commandCounts(admin);
        const { status, ms, text } = await scrape(api.url, api.token);
        const delta = new CommandDelta(before, await commandCounts(admin));
        const commands = delta.total - (delta.calls.get('info') ?? 0);
        assert.equal(status, 200);
        assert.match(text, new RegExp(`^lockstep_queue_depth\\{state="pending"\\} ${2 * WITH_WORK}$`, 'm'));
        assert.match(text, /^lockstep_oldest_pending_age_seconds\{state="pending"\} (?!0$)[\d.e-]+$/m);
        runs.push({ commands, ms, detail: delta.describe(1, 10) });
      }
      const most = Math.max(...runs.map((r) => r.commands));
      const fastest = Math.min(...runs.map((r) => r.ms));
      t.diagnostic(`scrapes: ${runs.map((r) => `${r.commands} commands, ${r.ms.toFixed(1)} ms`).join('; ')}`);
      assert.ok(most < 50, `a scrape ran ${most} Redis commands: ${JSON.stringify(runs)}`);
      assert.ok(fastest < 50, `a scrape took ${fastest.toFixed(1)} ms: ${JSON.stringify(runs)}`);

      const before = await commandCounts(admin);
      const stats = await api.request<{ queue: { depth: Record<string, number> } }>('GET', '/v1/stats');
      const delta = new CommandDelta(before, await commandCounts(admin));
      assert.deepEqual(stats.body.queue.depth, { pending: 2 * WITH_WORK, retrying: 0, dead: 0 });
      assert.ok(delta.total - (delta.calls.get('info') ?? 0) < 50, `GET /v1/stats ran ${delta.total} commands: ${delta.describe(1, 10)}`);
    } finally {
      admin.disconnect();
    }
  });
});

describe('/metrics wants a bearer token', () => {
  const context = useLockstep('api', { LOCKSTEP_METRICS_TOKEN: 'prometheus-0123456789' });

  test('LOCKSTEP_METRICS_TOKEN or any API token; nothing else', async () => {
    const { api } = context();
    assert.equal((await scrape(api.url)).status, 401, 'no token');
    assert.equal((await scrape(api.url, 'wrong-token')).status, 401, 'a wrong token');
    assert.equal((await scrape(api.url, 'prometheus-0123456789')).status, 200, 'the metrics token');
    assert.equal((await scrape(api.url, api.token)).status, 200, 'an API token');
    const v1 = await fetch(`${api.url}/v1/stats`, { headers: { authorization: 'Bearer prometheus-0123456789' } });
    assert.equal(v1.status, 401, 'the metrics token opens /metrics only');
  });
});

describe('LOCKSTEP_METRICS_PUBLIC=true', () => {
  const context = useLockstep('api', { LOCKSTEP_METRICS_PUBLIC: 'true' });

  test('/metrics answers without a token; /v1 still wants one', async () => {
    const { api } = context();
    const open = await scrape(api.url);
    assert.equal(open.status, 200);
    assert.match(open.text, /^# HELP lockstep_/m);
    assert.equal((await fetch(`${api.url}/v1/stats`)).status, 401);
  });
});
