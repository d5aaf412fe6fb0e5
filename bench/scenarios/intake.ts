// Intake: POST /v1/messages (each message to 1 receiver, matched by event type), 64 concurrent
// clients on one undici Pool, no emitter running (intake alone). Baseline: a bare fastify in its
// own process answering 202 without storing, driven by the same client for the same time.
// Batch intake (POST /v1/messages/batch) is reported only.
import { TEST_TOKEN, type ApiClient } from '../../test/support/lockstep.js';
import type { BenchContext } from '../context.js';
import { startHelper } from '../helper-process.js';
import { CpuMeter } from '../cpu.js';
import { LoadClient, type LoadRequest, type LoadResult } from '../load.js';
import { profilePath, profileReport, profilerEnv } from '../profile.js';
import { emptyRow, ratioRow, reportRow, type Row } from '../report.js';
import type { CommandDelta } from '../redis-stats.js';
import { scrapeCounter, Stack } from '../stack.js';

const CLIENTS = 64;
const BATCH_SIZE = 100;
const BATCH_CLIENTS = 8;
const AUTH = { authorization: `Bearer ${TEST_TOKEN}` };

function message(i: number): string {
  return JSON.stringify({ eventType: 'bench.intake', payload: { n: i, order: `ord_${i}`, amount: 4200 } });
}

async function drive(origin: string, clients: number, ctx: BenchContext, next: (i: number) => LoadRequest): Promise<LoadResult> {
  const load = new LoadClient(origin, clients);
  try {
    return await load.closedLoop(next, { durationMs: ctx.sizes.intakeMs, warmupMs: ctx.sizes.warmupMs });
  } finally {
    await load.close();
  }
}

/**
 * Runs `work` and counts what it cost Redis and how many messages the API accepted meanwhile
 * (warm-up included, so commands per message compare like with like), from the API's /metrics.
 */
async function measured<T>(
  stack: Stack,
  client: ApiClient,
  work: () => Promise<T>,
): Promise<{ result: T; commands: CommandDelta; accepted: number; cpu: string }> {
  const acceptedSoFar = (): Promise<number> => scrapeCounter(`${client.url}/metrics`, 'lockstep_messages_accepted_total');
  const before = await acceptedSoFar();
  // CPU per message moves far less with the machine's load than the rate does
  const cpu = new CpuMeter({ api: stack.apiPid as number, 'redis-server': stack.redis.pid as number }).start();
  const { result, commands } = await stack.redisDuring(work);
  const accepted = (await acceptedSoFar()) - before;
  return { result, commands, accepted, cpu: cpu.describe(accepted, 'message') };
}

export async function intake(ctx: BenchContext): Promise<Row[]> {
  const bare = await startHelper('./bare-intake.ts');
  let baseline: LoadResult;
  let bareCpu: string;
  try {
    const cpu = new CpuMeter({ bare: bare.pid }).start();
    baseline = await drive(bare.url, CLIENTS, ctx, (i) => ({ path: '/v1/messages', body: message(i), headers: AUTH }));
    bareCpu = cpu.describe(baseline.answered, 'request');
  } finally {
    bare.stop();
  }

  const stack = await Stack.start('redis');
  const profile = ctx.profileDir ? { dir: ctx.profileDir, prefix: 'intake-redis-api' } : undefined;
  let apiPid: number | undefined;
  try {
    const client = await stack.api(profile ? profilerEnv(profile.dir, profile.prefix) : {});
    apiPid = stack.apiPid;
    await client.createReceiver({ url: ctx.receiver.url('intake'), eventTypes: ['bench.intake'] });
    const {
      result: single,
      commands,
      accepted,
      cpu,
    } = await measured(stack, client, () => drive(client.url, CLIENTS, ctx, (i) => ({ path: '/v1/messages', body: message(i), headers: AUTH })));
    const rows = [
      ratioRow({
        scenario: `intake: POST /v1/messages, ${CLIENTS} clients`,
        backend: '-',
        figure: single.perSecond,
        unit: 'accepted/s',
        baseline: baseline.perSecond,
        baselineLabel: 'bare fastify 202, no storage',
        minRatio: 0.4, // issue 13: intake stays at 0.4 of bare fastify or more
        redisPerMessage: commands.total / accepted,
        notes: `${single.failed} non-2xx; no emitter running; ${(ctx.sizes.intakeMs / 1000).toFixed(0)} s after ${(ctx.sizes.warmupMs / 1000).toFixed(0)} s warm-up; ${cpu} (${bareCpu}); Redis per message: ${commands.describe(accepted)}`,
      }),
      await batchIntake(ctx, stack, client, single.perSecond),
    ];
    return rows;
  } finally {
    await stack.stop();
    // written when the API exits
    if (profile && apiPid !== undefined) ctx.log(profileReport(profilePath(profile.dir, profile.prefix, String(apiPid)), 'the intake API process', 25));
  }
}

async function batchIntake(ctx: BenchContext, stack: Stack, client: ApiClient, singleRate: number): Promise<Row> {
  const scenario = `batch intake: ${BATCH_SIZE} per request, ${BATCH_CLIENTS} clients`;
  const batch = (i: number): LoadRequest => ({
    path: '/v1/messages/batch',
    headers: AUTH,
    body: JSON.stringify({ messages: Array.from({ length: BATCH_SIZE }, (_, k) => JSON.parse(message(i * BATCH_SIZE + k)) as unknown) }),
  });
  const probe = await client.request('POST', '/v1/messages/batch', batch(0).body);
  if (probe.status === 404) return emptyRow(scenario, '-', 'not implemented', 'POST /v1/messages/batch answered 404');
  const { result, commands, accepted, cpu } = await measured(stack, client, () => drive(client.url, BATCH_CLIENTS, ctx, batch));
  const rate = result.perSecond * BATCH_SIZE;
  const row = reportRow(
    scenario,
    '-',
    rate,
    'accepted/s',
    `${result.failed} non-2xx; ${cpu}; Redis per message: ${commands.describe(accepted)}`,
    commands.total / accepted,
  );
  return { ...row, baseline: singleRate, baselineLabel: 'single-message intake, this run', ratio: rate / singleRate };
}
