// npm run bench [-- --quick] [-- --backend redis|etcd|all]
// Real Redis (and etcd), real Lockstep processes, a receiver in its own process. Every figure is
// printed beside a baseline measured in the same run, because this machine is shared and noisy.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { EtcdServer } from '../test/support/etcd.js';
import { ApiClient, LockstepProcess, TEST_TOKEN } from '../test/support/lockstep.js';
import { freePort, waitFor } from '../test/support/ports.js';
import { RedisServer } from '../test/support/redis.js';
import { peakRssMiB, rawUndici, receiverCount, redisCommands, scrapeCounter, startHelper } from './harness.js';

interface Row {
  scenario: string;
  backend: string;
  figure: number;
  unit: string;
  baseline: number | null;
  baselineLabel: string;
  ratio: number | null;
  target: string;
  met: boolean | null;
  redisCommandsPerDelivery?: number;
  notes?: string;
}

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const backendArg = args.includes('--backend') ? args[args.indexOf('--backend') + 1] : 'redis';
if (!['redis', 'etcd', 'all'].includes(backendArg ?? '')) {
  console.error(`--backend must be redis, etcd or all (got ${backendArg}); Consul cannot run on this machine`);
  process.exit(2);
}
const backends = (backendArg === 'all' ? ['redis', 'etcd'] : [backendArg]) as ('redis' | 'etcd')[];
const HOT_MESSAGES = quick ? 2000 : 5000;
const INTAKE_REQUESTS = quick ? 3000 : 20_000;
const TTL_MS = 2000;

async function main(): Promise<void> {
  const rows: Row[] = [];
  const receiver = await startHelper('./receiver.ts');
  try {
    rows.push(...(await intake(receiver.url)));
    for (const backend of backends) {
      const run = await Run.start(backend);
      try {
        rows.push(...(await hotReceiver(run, receiver.url)));
        rows.push(await failover(run, receiver.url));
      } finally {
        await run.stop();
      }
    }
  } finally {
    receiver.stop();
  }
  for (const scenario of ['fan-out (1,000 receivers, 2 emitters)', 'batch intake', 'latency at 200 msg/s', 'lock loss: deadline → abort']) {
    rows.push({ scenario, backend: '-', figure: NaN, unit: '', baseline: null, baselineLabel: 'not measured yet', ratio: null, target: '', met: null });
  }
  report(rows);
}

/** One Redis (and etcd) and the Lockstep processes of one backend. */
class Run {
  private readonly processes: LockstepProcess[] = [];

  private constructor(readonly backend: string, readonly redis: RedisServer, readonly etcd: EtcdServer | undefined) {}

  static async start(backend: 'redis' | 'etcd'): Promise<Run> {
    return new Run(backend, await RedisServer.start(), backend === 'etcd' ? await EtcdServer.start() : undefined);
  }

  get env(): Record<string, string> {
    return {
      LOCKSTEP_REDIS_URL: this.redis.url, LOCKSTEP_LOCK_TTL_MS: String(TTL_MS), LOCKSTEP_LOG_LEVEL: 'warn', LOCKSTEP_ALLOW_PRIVATE_NETWORKS: 'true',
      ...(this.etcd ? { LOCKSTEP_LOCK_BACKEND: 'etcd', LOCKSTEP_ETCD_HOSTS: this.etcd.url } : {}),
    };
  }

  async process(role: 'api' | 'emitter', env: Record<string, string> = {}): Promise<LockstepProcess> {
    const started = await LockstepProcess.start(role, { ...this.env, ...env });
    this.processes.push(started);
    return started;
  }

  async stop(): Promise<void> {
    await Promise.all(this.processes.map((p) => p.stop()));
    await this.etcd?.destroy();
    await this.redis.destroy();
  }
}

/** Queues `count` messages for a new, disabled receiver (so nothing is sent yet); returns its id. */
async function backlog(client: ApiClient, url: string, count: number): Promise<string> {
  const { id } = await client.createReceiver({ url, enabled: false });
  for (let sent = 0; sent < count; sent += 1000) {
    const messages = Array.from({ length: Math.min(1000, count - sent) }, (_, i) => ({ eventType: 'bench.hot', payload: { n: sent + i }, receiverIds: [id] }));
    const response = await client.request('POST', '/v1/messages/batch', { messages });
    if (response.status !== 202) throw new Error(`batch intake answered ${response.status}`);
  }
  return id;
}

async function hotReceiver(run: Run, receiverUrl: string): Promise<Row[]> {
  const baseline = await rawUndici(receiverUrl, ['/hook'], HOT_MESSAGES, 1);
  const api = await run.process('api');
  const metricsPort = await freePort();
  const emitter = await run.process('emitter', { LOCKSTEP_EMITTER_ID: 'bench-hot', LOCKSTEP_METRICS_PORT: String(metricsPort) });
  const client = new ApiClient(api.url as string);
  const id = await backlog(client, `${receiverUrl}/hook`, HOT_MESSAGES);
  const admin = run.redis.client();
  const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  const [commandsBefore, lockOpsBefore] = [await redisCommands(admin), await lockOperations(metricsUrl)];
  await fetch(`${receiverUrl}/__reset`);
  const started = performance.now();
  await client.request('PATCH', `/v1/receivers/${id}`, { enabled: true });
  await waitFor('the backlog to drain', async () => (await receiverCount(receiverUrl)) >= HOT_MESSAGES, 300_000, 20);
  const rate = HOT_MESSAGES / ((performance.now() - started) / 1000);
  const commands = ((await redisCommands(admin)) - commandsBefore) / HOT_MESSAGES;
  const lockOps = ((await lockOperations(metricsUrl)) - lockOpsBefore) / HOT_MESSAGES;
  const rss = peakRssMiB(emitter.pid);
  admin.disconnect();
  await emitter.stop();
  await api.stop();
  const backend = run.backend;
  return [
    { scenario: `hot receiver (${HOT_MESSAGES} queued)`, backend, figure: rate, unit: 'deliveries/s', baseline, baselineLabel: 'raw undici, 1 in flight', ratio: rate / baseline, target: '≥ 0.5', met: rate / baseline >= 0.5, redisCommandsPerDelivery: commands },
    { scenario: 'lock cost under backlog', backend, figure: lockOps, unit: 'lock ops/delivery', baseline: null, baselineLabel: '—', ratio: null, target: '≤ 0.05', met: lockOps <= 0.05, notes: 'acquire attempts + releases + session renewals, from the emitter /metrics' },
    { scenario: 'memory (hot receiver)', backend, figure: rss, unit: 'MiB peak RSS/emitter', baseline: null, baselineLabel: '—', ratio: null, target: 'report', met: null },
  ];
}

async function failover(run: Run, receiverUrl: string): Promise<Row> {
  const api = await run.process('api');
  const client = new ApiClient(api.url as string);
  const count = quick ? 3000 : 6000;
  const id = await backlog(client, `${receiverUrl}/failover`, count);
  const emitters = [await run.process('emitter', { LOCKSTEP_EMITTER_ID: 'bench-a' }), await run.process('emitter', { LOCKSTEP_EMITTER_ID: 'bench-b' })];
  await fetch(`${receiverUrl}/__reset`);
  await client.request('PATCH', `/v1/receivers/${id}`, { enabled: true });
  await waitFor('deliveries to start', async () => (await receiverCount(receiverUrl)) > 200, 30_000, 10);
  const holder = (await client.request<{ data: { receiverId: string; emitterId: string }[] }>('GET', '/v1/locks')).body.data.find((h) => h.receiverId === id);
  const victim = emitters.find((e) => e.env.LOCKSTEP_EMITTER_ID === holder?.emitterId) ?? (emitters[0] as LockstepProcess);
  victim.kill('SIGKILL');
  const killedAt = Date.now();
  await new Promise((resolve) => setTimeout(resolve, 50)); // let requests already on the wire land
  const countAtKill = await receiverCount(receiverUrl);
  await waitFor('deliveries to resume', async () => (await receiverCount(receiverUrl)) > countAtKill, TTL_MS + 10_000, 5);
  const resumedMs = Date.now() - killedAt;
  await Promise.all(emitters.map((e) => e.stop()));
  await api.stop();
  return { scenario: 'failover: kill -9 the holder', backend: run.backend, figure: resumedMs, unit: 'ms to resume', baseline: TTL_MS, baselineLabel: 'lock TTL', ratio: resumedMs / TTL_MS, target: '≤ TTL + 1 s', met: resumedMs <= TTL_MS + 1000 };
}

async function intake(receiverUrl: string): Promise<Row[]> {
  const bare = await startHelper('./bare-intake.ts');
  const body = JSON.stringify({ eventType: 'bench.intake', payload: { hello: 'world' } });
  const baseline = await rawUndici(bare.url, ['/v1/messages'], INTAKE_REQUESTS, 64, body);
  bare.stop();
  const run = await Run.start('redis');
  try {
    const api = await run.process('api');
    await new ApiClient(api.url as string).createReceiver({ url: `${receiverUrl}/intake`, eventTypes: ['bench.*'] });
    const admin = run.redis.client();
    const before = await redisCommands(admin);
    const rate = await rawUndici(api.url as string, ['/v1/messages'], INTAKE_REQUESTS, 64, body, { authorization: `Bearer ${TEST_TOKEN}` });
    const commands = ((await redisCommands(admin)) - before) / INTAKE_REQUESTS;
    admin.disconnect();
    return [{ scenario: 'intake, 64 concurrent clients', backend: 'redis', figure: rate, unit: 'accepted/s', baseline, baselineLabel: 'fastify 202 without storing', ratio: rate / baseline, target: '≥ 0.3', met: rate / baseline >= 0.3, redisCommandsPerDelivery: commands, notes: 'Redis commands per accepted message' }];
  } finally {
    await run.stop();
  }
}

async function lockOperations(metricsUrl: string): Promise<number> {
  const [attempts, releases, renewals] = await Promise.all(['acquire_attempt', 'release', 'renewal'].map((op) => scrapeCounter(metricsUrl, 'lockstep_lock_operations_total', `op="${op}"`)));
  return (attempts ?? 0) + (releases ?? 0) + (renewals ?? 0);
}

function report(rows: Row[]): void {
  const format = (n: number | null, digits = 1): string => (n === null || Number.isNaN(n) ? '—' : n.toFixed(n < 1 && n > 0 ? 3 : digits));
  const header = ['scenario', 'backend', 'figure', 'baseline (same run)', 'ratio', 'target', '', 'Redis cmds/msg'];
  const lines = rows.map((r) => [r.scenario, r.backend, `${format(r.figure)} ${r.unit}`, r.baseline === null ? r.baselineLabel : `${format(r.baseline)} (${r.baselineLabel})`, format(r.ratio, 2), r.target, r.met === null ? '' : r.met ? 'met' : 'MISSED', format(r.redisCommandsPerDelivery ?? null)]);
  const table = [header, ...lines].map((cells) => `| ${cells.join(' | ')} |`);
  table.splice(1, 0, `| ${header.map(() => '---').join(' | ')} |`);
  const machine = `${cpus().length} cores, Node ${process.version}, ${quick ? 'quick' : 'full'} run, ${new Date().toISOString()}`;
  console.log(`\n${machine}\n${table.join('\n')}\n`);
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  const file = new URL(`./results/${new Date().toISOString().slice(0, 10)}.json`, import.meta.url);
  writeFileSync(file, JSON.stringify({ machine, quick, rows }, null, 2));
  console.log(`written ${file.pathname}`);
}

await main();
process.exit(0);
