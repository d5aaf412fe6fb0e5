import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Stats } from '../../src/shapes/fleet.js';
import { Fleet } from '../support/fleet.js';
import { waitFor } from '../support/ports.js';

/** GET /v1/stats as the dashboard reads it, with real processes that deliver, stop and die. */

let fleet: Fleet;
before(async () => {
  fleet = await Fleet.start(2);
});
after(async () => {
  await fleet?.stop();
});

const stats = async (): Promise<Stats> => (await fleet.client.request<Stats>('GET', '/v1/stats')).body;
const ids = async (): Promise<string[]> => (await stats()).processes.map((report) => report.id).sort();

test('the API and every emitter report; a stopped one leaves at once, a killed one within 6 s', async () => {
  await waitFor('three processes reporting', async () => (await ids()).length === 3, 10_000, 200);
  const roles = (await stats()).processes.map((report) => [report.role, report.pid]);
  assert.deepEqual(
    roles
      .filter(([role]) => role === 'emitter')
      .map(([, pid]) => pid)
      .sort(),
    fleet.emitters.map((emitter) => emitter.pid).sort(),
  );
  assert.deepEqual(
    roles.filter(([role]) => role === 'api').map(([, pid]) => pid),
    [fleet.api.pid],
  );

  await fleet.client.createReceiver({ url: fleet.receiver.url('counted') });
  for (let i = 0; i < 20; i++) await fleet.client.post('fleet.event', { i });
  await waitFor(
    'the reports to count 20 accepted and 20 delivered',
    async () => {
      const { processes } = await stats();
      const sum = (pick: (report: Stats['processes'][number]) => number): number => processes.reduce((total, report) => total + pick(report), 0);
      return sum((report) => report.accepted) === 20 && sum((report) => report.attempts.delivered ?? 0) === 20;
    },
    15_000,
    200,
  );

  const [first, second] = fleet.emitters;
  await first?.stop();
  assert.ok(!(await ids()).includes('emitter-1'), 'a process that stops takes itself off the list');
  second?.kill('SIGKILL');
  const killedAt = Date.now();
  await waitFor('the killed emitter to drop off', async () => !(await ids()).includes('emitter-2'), 10_000, 200);
  assert.ok(Date.now() - killedAt <= 6500, `dropped after ${Date.now() - killedAt} ms`);
  assert.equal((await stats()).processes.length, 1);
});
