import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, waitFor } from './ports.js';
import { RedisServer } from './redis.js';

export const MASTER_NAME = 'mymaster';

/** A `redis-server` (AOF on, as RedisServer) that starts as a replica of `masterPort`. */
class ReplicaServer extends RedisServer {
  constructor(
    port: number,
    private readonly masterPort: number,
  ) {
    super(port, 'redis-replica');
  }

  protected override command(): [string, string[]] {
    const [program, args] = super.command();
    return [program, [...args, '--replicaof', '127.0.0.1', String(this.masterPort)]];
  }
}

/** `redis-server <conf> --sentinel`: the same binary, watching `masterPort`, quick to decide. */
class SentinelServer extends RedisServer {
  constructor(
    port: number,
    private readonly masterPort: number,
  ) {
    super(port, 'sentinel');
  }

  protected override command(): [string, string[]] {
    // A sentinel rewrites its configuration file as it learns: it needs one of its own, writable.
    const conf = join(this.dir, 'sentinel.conf');
    writeFileSync(
      conf,
      [
        `port ${this.port}`,
        'bind 127.0.0.1',
        'protected-mode no',
        `dir ${this.dir}`,
        `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${this.masterPort} 2`,
        `sentinel down-after-milliseconds ${MASTER_NAME} 1000`,
        `sentinel failover-timeout ${MASTER_NAME} 3000`,
        `sentinel parallel-syncs ${MASTER_NAME} 2`,
        '',
      ].join('\n'),
    );
    return ['redis-server', [conf, '--sentinel']];
  }
}

/**
 * A real Sentinel-managed Redis on free ports: one master, `replicas` replicas and three sentinels
 * (quorum 2, master declared down after 1 s). `killMaster()` is `kill -9` of whichever node is the
 * master right now; the sentinels then promote a replica.
 */
export class SentinelSet {
  private constructor(
    readonly nodes: RedisServer[],
    readonly sentinels: SentinelServer[],
  ) {}

  static async start(replicas: number): Promise<SentinelSet> {
    const master = await RedisServer.start();
    const nodes: RedisServer[] = [master];
    for (let i = 0; i < replicas; i++) {
      const replica = new ReplicaServer(await freePort(), master.port);
      await replica.start();
      nodes.push(replica);
    }
    const sentinels: SentinelServer[] = [];
    for (let i = 0; i < 3; i++) {
      const sentinel = new SentinelServer(await freePort(), master.port);
      await sentinel.start();
      sentinels.push(sentinel);
    }
    const set = new SentinelSet(nodes, sentinels);
    // Connected is not yet acknowledging: a replica with AOF on rewrites it after its first sync and
    // answers WAIT only after that (the first WAIT was measured at over 1 s).
    await waitFor(
      'the replicas to sync and acknowledge writes, and every sentinel to see them all',
      async () =>
        (await set.connectedReplicas(master.port)) === replicas &&
        (await set.acknowledgedBy(master.port)) >= replicas &&
        (await set.replicasSeenBySentinels()) === replicas,
      20_000,
      100,
    );
    return set;
  }

  /** The settings that point Lockstep at this set. */
  get env(): Record<string, string> {
    return { LOCKSTEP_REDIS_SENTINELS: this.sentinels.map((s) => `127.0.0.1:${s.port}`).join(','), LOCKSTEP_REDIS_SENTINEL_NAME: MASTER_NAME };
  }

  /** The master's port as the first sentinel names it. */
  async masterPort(): Promise<number> {
    const reply = (await this.ask(this.sentinels[0] as SentinelServer, ['sentinel', 'get-master-addr-by-name', MASTER_NAME])) as string[];
    return Number(reply[1]);
  }

  /** `kill -9` of the current master; resolves with its port once the process is gone. */
  async killMaster(): Promise<number> {
    const port = await this.masterPort();
    const master = this.nodes.find((node) => node.port === port);
    if (master?.pid === undefined) throw new Error(`no running node on port ${port}`);
    process.kill(master.pid, 'SIGKILL');
    await master.stop();
    return port;
  }

  /** The running nodes that are not the master now. */
  async replicas(): Promise<RedisServer[]> {
    const master = await this.masterPort();
    return this.nodes.filter((node) => node.port !== master && node.pid !== undefined);
  }

  /** How many replicas the node on `port` has connected right now. */
  async connectedReplicas(port: number): Promise<number> {
    const info = String(await this.ask({ port }, ['info', 'replication']));
    return Number(/connected_slaves:(\d+)/.exec(info)?.[1] ?? -1);
  }

  async destroy(): Promise<void> {
    for (const server of [...this.sentinels, ...this.nodes]) await server.destroy();
  }

  private async replicasSeenBySentinels(): Promise<number> {
    const seen = await Promise.all(
      this.sentinels.map(async (sentinel) => ((await this.ask(sentinel, ['sentinel', 'replicas', MASTER_NAME])) as unknown[]).length),
    );
    return Math.min(...seen);
  }

  /** How many replicas acknowledge a write on `port` within 100 ms (`WAIT` after it, on its connection). */
  private async acknowledgedBy(port: number): Promise<number> {
    const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => {});
    try {
      await client.connect();
      const replies = await client.pipeline().incr('harness:ready').wait(10, 100).exec();
      return Number(replies?.[1]?.[1] ?? 0);
    } finally {
      client.disconnect();
    }
  }

  private async ask(server: { port: number }, [command, ...args]: string[]): Promise<unknown> {
    const client = new Redis({ port: server.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => {});
    try {
      await client.connect();
      return await client.call(command as string, ...args);
    } finally {
      client.disconnect();
    }
  }
}
