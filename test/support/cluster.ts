import { spawnSync } from 'node:child_process';
import { Cluster, Redis } from 'ioredis';
import { ServerExited } from './child-server.js';
import { freePort, waitFor } from './ports.js';
import { RedisServer } from './redis.js';

/** A cluster node's bus listens on its port + this (Redis's rule). */
const BUS_PORT_OFFSET = 10_000;

/** A `redis-server` (AOF on, as RedisServer) with cluster mode on. */
class ClusterNode extends RedisServer {
  constructor(port: number) {
    super(port, 'redis-cluster');
  }

  /**
   * A node on a port whose bus port (+ 10000) is free too. Either can be taken between that look
   * and the start (the other test lanes connect all the time): the node then exits at once and
   * gets another pair.
   */
  static async started(tries = 3): Promise<ClusterNode> {
    const node = new ClusterNode(await freePort(BUS_PORT_OFFSET));
    try {
      await node.start();
      return node;
    } catch (error) {
      await node.destroy();
      if (!(error instanceof ServerExited) || tries <= 1) throw error;
      return ClusterNode.started(tries - 1);
    }
  }

  protected override command(): [string, string[]] {
    const [program, args] = super.command();
    return [program, [...args, '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '2000']];
  }
}

/**
 * A real Redis Cluster on free ports: `masters` masters (and `replicasPerMaster` replicas of each),
 * built by `redis-cli --cluster create … --cluster-yes` and ready once every node says
 * `cluster_state:ok`.
 */
export class RedisCluster {
  private constructor(readonly nodes: RedisServer[]) {}

  static async start(masters = 3, replicasPerMaster = 0): Promise<RedisCluster> {
    const nodes: RedisServer[] = [];
    for (let i = 0; i < masters * (1 + replicasPerMaster); i++) nodes.push(await ClusterNode.started());
    const created = spawnSync(
      'redis-cli',
      ['--cluster', 'create', ...nodes.map((node) => `127.0.0.1:${node.port}`), '--cluster-replicas', String(replicasPerMaster), '--cluster-yes'],
      { encoding: 'utf8', timeout: 30_000 },
    );
    if (created.status !== 0) throw new Error(`redis-cli --cluster create failed: ${created.stdout}\n${created.stderr}`);
    const cluster = new RedisCluster(nodes);
    await cluster.stateOk();
    // and, with replicas, every one of them online: until then a WAIT on its master counts none
    if (replicasPerMaster > 0)
      await waitFor(
        'every replica to be online',
        async () => {
          const infos = await Promise.all(nodes.map((node) => cluster.ask(node.port, 'info', 'replication')));
          const online = infos.map((info) => String(info).match(/slave\d+:.*state=online/g)?.length ?? 0);
          return online.reduce((sum, count) => sum + count, 0) === masters * replicasPerMaster;
        },
        30_000,
        100,
      );
    return cluster;
  }

  /** `LOCKSTEP_REDIS_CLUSTER`: every node, `host:port` comma list. */
  get seeds(): string {
    return this.nodes.map((node) => `127.0.0.1:${node.port}`).join(',');
  }

  /** A client of the whole cluster (it follows the slots), for a test's own look at the keys. */
  client(): Cluster {
    return new Cluster(
      this.nodes.map((node) => ({ host: '127.0.0.1', port: node.port })),
      { redisOptions: { maxRetriesPerRequest: null } },
    );
  }

  /** Every node stopped (a clean shutdown, as RedisServer's): the whole cluster is down. */
  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.stop()));
  }

  /** Every node started again on its port, data and nodes.conf; resolves once the cluster is ok again. */
  async start(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.start()));
    await this.stateOk();
  }

  /**
   * `CLUSTER FAILOVER` (the coordinated one: the replica catches up first) of the master that holds
   * `key`'s slot; resolves once the replica has become master. Returns the ports, old and new.
   */
  async failoverMasterOf(key: string): Promise<{ from: number; to: number }> {
    const { master, nodes } = await this.ownerOf(key);
    const replica = nodes.find((fields) => fields[2]?.includes('slave') && fields[3] === master?.[0]);
    if (!master || !replica) throw new Error(`no master with a replica for ${key}'s slot`);
    await this.ask(portOf(replica), 'cluster', 'failover');
    await waitFor('the replica to take over', async () => /role:master/.test(String(await this.ask(portOf(replica), 'info', 'replication'))), 20_000, 50);
    return { from: portOf(master), to: portOf(replica) };
  }

  /** The master of `key`'s slot alone, stopped and started again (start resolves once the cluster is ok again). */
  async masterOutage(key: string): Promise<{ port: number; stop(): Promise<void>; start(): Promise<void> }> {
    const { master } = await this.ownerOf(key);
    const node = this.nodes.find((candidate) => master && candidate.port === portOf(master));
    if (!node) throw new Error(`no master for ${key}'s slot`);
    return {
      port: node.port,
      stop: () => node.stop(),
      start: async () => {
        await node.start();
        await this.stateOk();
      },
    };
  }

  /** The port of the master serving `key`'s slot. */
  async masterPortOf(key: string): Promise<number> {
    const { master } = await this.ownerOf(key);
    if (!master) throw new Error(`no master for ${key}'s slot`);
    return portOf(master);
  }

  /**
   * `key`'s slot (which must hold no keys) moved to the master on `port` behind every client's back,
   * as a resharding moves it (IMPORTING, MIGRATING, then NODE, the new owner first): a client that
   * still sends to the old owner gets MOVED.
   */
  async handSlotTo(key: string, port: number): Promise<void> {
    const from = await this.masterPortOf(key);
    const slot = String(await this.ask(port, 'cluster', 'keyslot', key));
    const [to, source] = await Promise.all([port, from].map(async (node) => String(await this.ask(node, 'cluster', 'myid'))));
    await this.ask(port, 'cluster', 'setslot', slot, 'importing', source as string);
    await this.ask(from, 'cluster', 'setslot', slot, 'migrating', to as string);
    const others = this.nodes.map((node) => node.port).filter((other) => other !== port && other !== from);
    for (const node of [port, from, ...others]) await this.ask(node, 'cluster', 'setslot', slot, 'node', to as string);
    await waitFor(`every node to see slot ${slot} on ${port}`, async () => (await this.masterPortOf(key)) === port, 10_000, 50);
  }

  /** The master serving `key`'s slot, and every node, as `CLUSTER NODES` lines split into fields. */
  private async ownerOf(key: string): Promise<{ master: string[] | undefined; nodes: string[][] }> {
    const slot = Number(await this.ask(this.nodes[0]?.port as number, 'cluster', 'keyslot', key));
    const nodes = String(await this.ask(this.nodes[0]?.port as number, 'cluster', 'nodes'))
      .trim()
      .split('\n')
      .map((line) => line.split(' '));
    const owns = (fields: string[]): boolean =>
      fields.slice(8).some((range) => {
        const [low, high = low] = range.split('-').map(Number);
        return slot >= (low as number) && slot <= (high as number);
      });
    return { master: nodes.find((fields) => fields[2]?.includes('master') && owns(fields)), nodes };
  }

  /** How many keys each master holds (`DBSIZE`), by port. */
  async keysPerMaster(): Promise<Map<number, number>> {
    const nodes = await Promise.all(
      this.nodes.map(async (node) => ({
        port: node.port,
        master: /role:master/.test(String(await this.ask(node.port, 'info', 'replication'))),
        keys: Number(await this.ask(node.port, 'dbsize')),
      })),
    );
    return new Map(nodes.filter(({ master }) => master).map(({ port, keys }) => [port, keys]));
  }

  async destroy(): Promise<void> {
    for (const node of this.nodes) await node.destroy();
  }

  private async stateOk(): Promise<void> {
    await waitFor(
      'every cluster node to say cluster_state:ok',
      async () => (await Promise.all(this.nodes.map((node) => this.ask(node.port, 'cluster', 'info')))).every((info) => /cluster_state:ok/.test(String(info))),
      30_000,
      100,
    );
  }

  /** One command to one node, on a connection of its own. */
  async ask(port: number, command: string, ...args: string[]): Promise<unknown> {
    const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => {});
    try {
      await client.connect();
      return await client.call(command, ...args);
    } finally {
      client.disconnect();
    }
  }
}

/** The port of a `CLUSTER NODES` line's node (`ip:port@cport`). */
function portOf(fields: string[]): number {
  return Number(/:(\d+)@/.exec(fields[1] ?? '')?.[1]);
}
