import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import { EtcdServer } from '../test/support/etcd.js';
import { ApiClient, LockstepProcess, TEST_TOKEN } from '../test/support/lockstep.js';
import { freePort } from '../test/support/ports.js';
import { RedisServer } from '../test/support/redis.js';
import { RedisCluster } from '../test/support/cluster.js';
import { SentinelSet } from '../test/support/sentinel.js';
import { CommandDelta, commandCounts, type CommandCounts } from './redis-stats.js';

export type Backend = 'redis' | 'etcd';

const STOP_GRACE_MS = 3000;

/** An emitter process with its own Prometheus endpoint. */
export interface BenchEmitter {
  process: LockstepProcess;
  id: string;
  metricsUrl: string;
}

/**
 * What one scenario runs on: a fresh Redis (and etcd for the etcd backend), an API process and
 * emitter processes, started as an operator would (`node dist/cli.js api|emitter`).
 */
export class Stack {
  readonly emitters: BenchEmitter[] = [];
  private apiProcess: LockstepProcess | undefined;
  private admin: Redis | undefined;

  private constructor(
    readonly backend: Backend,
    /** The Redis at start (with Sentinel: the first master). */
    readonly redis: RedisServer,
    readonly etcd: EtcdServer | undefined,
    private readonly env: Record<string, string>,
    /** Set when the stack runs on a Sentinel-managed Redis, or on a Redis Cluster. */
    readonly ha: { sentinel?: SentinelSet; cluster?: RedisCluster } = {},
  ) {}

  /** `env` is added to every Lockstep process (e.g. a short LOCKSTEP_LOCK_TTL_MS). */
  static async start(backend: Backend, env: Record<string, string> = {}): Promise<Stack> {
    const [redis, etcd] = await Promise.all([RedisServer.start(), backend === 'etcd' ? EtcdServer.start() : undefined]);
    return Stack.create(backend, redis, etcd, { LOCKSTEP_REDIS_URL: redis.url, ...env });
  }

  /** The same on a master with 2 replicas and 3 sentinels (test/support/sentinel.ts). */
  static async startOnSentinel(backend: Backend, env: Record<string, string> = {}): Promise<Stack> {
    const [sentinel, etcd] = await Promise.all([SentinelSet.start(2), backend === 'etcd' ? EtcdServer.start() : undefined]);
    return Stack.create(backend, sentinel.nodes[0] as RedisServer, etcd, { ...sentinel.env, ...env }, { sentinel });
  }

  /** The same on a Redis Cluster of `masters` masters (test/support/cluster.ts). */
  static async startOnCluster(backend: Backend, masters: number, env: Record<string, string> = {}): Promise<Stack> {
    const [cluster, etcd] = await Promise.all([RedisCluster.start(masters), backend === 'etcd' ? EtcdServer.start() : undefined]);
    return Stack.create(backend, cluster.nodes[0] as RedisServer, etcd, { LOCKSTEP_REDIS_CLUSTER: cluster.seeds, ...env }, { cluster });
  }

  private static create(backend: Backend, redis: RedisServer, etcd: EtcdServer | undefined, env: Record<string, string>, ha: Stack['ha'] = {}): Stack {
    return new Stack(
      backend,
      redis,
      etcd,
      {
        LOCKSTEP_LOCK_BACKEND: backend,
        LOCKSTEP_LOG_LEVEL: 'warn',
        LOCKSTEP_ALLOW_PRIVATE_NETWORKS: 'true',
        ...(etcd ? { LOCKSTEP_ETCD_HOSTS: etcd.url } : {}),
        ...env,
      },
      ha,
    );
  }

  /** Starts the API process (once; `env` is added to its own, e.g. NODE_OPTIONS) and returns a client for it. */
  async api(env: Record<string, string> = {}): Promise<ApiClient> {
    this.apiProcess ??= await LockstepProcess.start('api', { ...this.env, ...env });
    return new ApiClient(this.apiProcess.url as string);
  }

  /** The API process's pid (after `api()`). */
  get apiPid(): number | undefined {
    return this.apiProcess?.pid;
  }

  /** Starts `count` emitters at the same time; `env` is added to theirs (e.g. NODE_OPTIONS). */
  async startEmitters(count: number, env: Record<string, string> = {}): Promise<BenchEmitter[]> {
    const started = await Promise.all(
      Array.from({ length: count }, async (_, i) => {
        const id = `bench-emitter-${this.emitters.length + i + 1}`;
        const port = await freePort();
        const process = await LockstepProcess.start('emitter', { ...this.env, ...env, LOCKSTEP_EMITTER_ID: id, LOCKSTEP_METRICS_PORT: String(port) });
        return { process, id, metricsUrl: `http://127.0.0.1:${port}/metrics` };
      }),
    );
    this.emitters.push(...started);
    return started;
  }

  /** Calls per command Redis has executed so far (INFO commandstats). */
  redisCommands(): Promise<CommandCounts> {
    this.admin ??= this.redis.client();
    return commandCounts(this.admin);
  }

  /** Runs `work` and returns what Redis executed meanwhile. */
  async redisDuring<T>(work: () => Promise<T>): Promise<{ result: T; commands: CommandDelta }> {
    const before = await this.redisCommands();
    const result = await work();
    return { result, commands: new CommandDelta(before, await this.redisCommands()) };
  }

  /**
   * SIGTERM every process, SIGKILL after `STOP_GRACE_MS`: an emitter ends its turns after the
   * in-flight request, which never comes for a receiver that never answers (lock-loss scenarios).
   */
  async stop(): Promise<void> {
    this.admin?.disconnect();
    await Promise.all(
      this.emitters.map(({ process }) => {
        process.resume();
        return process.stop(STOP_GRACE_MS);
      }),
    );
    await this.apiProcess?.stop(STOP_GRACE_MS);
    await this.etcd?.destroy();
    await (this.ha.sentinel ?? this.ha.cluster ?? this.redis).destroy();
  }
}

/** Peak resident memory (VmHWM) of a running process, in MiB. */
export function peakRssMiB(pid: number): number {
  return procMemoryMiB(pid, 'VmHWM');
}

/** Resident memory (VmRSS) of a running process now, in MiB. */
export function rssMiB(pid: number): number {
  return procMemoryMiB(pid, 'VmRSS');
}

function procMemoryMiB(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : NaN;
}

/** The sum of a Prometheus counter's samples whose labels contain `labels` (e.g. `op="release"`). */
export async function scrapeCounter(metricsUrl: string, name: string, labels = ''): Promise<number> {
  return (await scrape(metricsUrl))(name, labels);
}

/**
 * One scrape, read as often as needed: figures compared with each other (a histogram's count and
 * one of its buckets) must come from the same moment, or a write between two scrapes shows as one
 * slow operation.
 */
export async function scrape(metricsUrl: string): Promise<(name: string, labels?: string) => number> {
  // the API's /metrics wants a token (an emitter's own ignores it)
  const lines = (await (await fetch(metricsUrl, { headers: { authorization: `Bearer ${TEST_TOKEN}` } })).text()).split('\n');
  return (name, labels = '') =>
    lines
      .filter((line) => (line.startsWith(`${name} `) || line.startsWith(`${name}{`)) && line.includes(labels))
      .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

/** Lock operations an emitter has made: acquire attempts + releases + session renewals. */
export async function lockOperations(emitter: BenchEmitter): Promise<number> {
  const read = await scrape(emitter.metricsUrl);
  return ['acquire_attempt', 'release', 'renewal'].reduce((sum, op) => sum + read('lockstep_lock_operations_total', `op="${op}"`), 0);
}
