import { Keys } from '../../src/store/keys.js';
import { whyOpen } from '../chaos/diagnose.js';
import { ConsulDouble } from './consul-double.js';
import { EtcdServer } from './etcd.js';
import { ApiClient, LockstepProcess } from './lockstep.js';
import { redisLockKey } from './lock-services.js';
import { TestReceiver } from './receiver.js';
import { RedisServer } from './redis.js';
import { ProxyLink } from './tcp-proxy.js';
import { defaultPrefix, redisEnv, startTestRedis, type TestRedis } from './test-redis.js';

/** The lock service a fleet uses: Redis (the same server as the store), a real etcd, or the Consul double. */
export type FleetLocks = 'redis' | 'etcd' | 'consul-double';

interface LockServer {
  env: Record<string, string>;
  /** A new link to the lock service for one emitter (its `env`), to cut that emitter off with. */
  link(): Promise<ProxyLink>;
  stop(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

/**
 * One API process and N emitter processes on a real Redis, with a recording receiver: the shape
 * every multi-process test needs. In the cluster lane (test-redis.ts) that Redis is a 3-master
 * Redis Cluster, which `redis` stops, starts and reads as a whole.
 */
export class Fleet {
  private constructor(
    readonly redis: TestRedis,
    readonly receiver: TestReceiver,
    readonly api: LockstepProcess,
    readonly emitters: LockstepProcess[],
    readonly client: ApiClient,
    /** The environment every Lockstep process of this fleet starts with. */
    readonly emitterEnv: Record<string, string>,
    readonly lockServer: LockServer,
  ) {}

  static async start(emitterCount: number, env: Record<string, string> = {}, locks: FleetLocks = 'redis'): Promise<Fleet> {
    const redis = await startTestRedis();
    const lockServer = await startLockServer(locks, redis);
    const receiver = await TestReceiver.start();
    const common = { ...redisEnv(redis), LOCKSTEP_LOCK_TTL_MS: '2000', LOCKSTEP_THROTTLED_MIN_MS: '0', ...lockServer.env, ...env };
    const api = await LockstepProcess.start('api', common);
    const emitters = await Promise.all(
      Array.from({ length: emitterCount }, (_, i) => LockstepProcess.start('emitter', { ...common, LOCKSTEP_EMITTER_ID: `emitter-${i + 1}` })),
    );
    return new Fleet(redis, receiver, api, emitters, new ApiClient(api.url as string), common, lockServer);
  }

  async addEmitter(id: string, env: Record<string, string> = {}): Promise<LockstepProcess> {
    const emitter = await LockstepProcess.start('emitter', { ...this.emitterEnv, ...env, LOCKSTEP_EMITTER_ID: id });
    this.emitters.push(emitter);
    return emitter;
  }

  /** The emitter process named `emitterId`. */
  emitter(emitterId: string): LockstepProcess {
    const found = this.emitters.find((e) => e.env.LOCKSTEP_EMITTER_ID === emitterId);
    if (!found) throw new Error(`no emitter ${emitterId}`);
    return found;
  }

  /** Stops every running emitter (SIGTERM), so the next test starts with only the ones it adds. */
  async stopEmitters(): Promise<void> {
    await Promise.all(
      this.emitters.splice(0).map(async (emitter) => {
        emitter.resume();
        await emitter.stop();
      }),
    );
  }

  /** The key of `receiverId`'s lock with the Redis lock backend, in this fleet's Redis. */
  redisLockKey(receiverId: string): string {
    return redisLockKey(defaultPrefix(this.redis), Number(this.emitterEnv.LOCKSTEP_REDIS_SHARD_GROUPS ?? 1), receiverId);
  }

  /** Why `receiverId` is not being served, as facts (its lock, its drain job, its wake-up): for a failing test to print. */
  async whyIdle(receiverId: string): Promise<string> {
    const { prefix } = new Keys(defaultPrefix(this.redis), Number(this.emitterEnv.LOCKSTEP_REDIS_SHARD_GROUPS ?? 1)).of(receiverId);
    const admin = this.redis.client();
    try {
      return (await whyOpen(this.client, admin, new Map([['it', receiverId]]), prefix)).get('it') ?? 'nothing known';
    } finally {
      admin.disconnect();
    }
  }

  async holderOf(receiverId: string): Promise<{ emitterId: string; fence: number } | undefined> {
    const { body } = await this.client.request<{ data: { receiverId: string; emitterId: string; fence: number }[] }>('GET', '/v1/locks');
    return body.data.find((holder) => holder.receiverId === receiverId);
  }

  async stop(): Promise<void> {
    for (const process of [...this.emitters, this.api]) {
      process.resume();
      await process.stop();
    }
    await this.receiver.close();
    await this.lockServer.destroy();
    await this.redis.destroy();
  }
}

async function startLockServer(locks: FleetLocks, redis: TestRedis): Promise<LockServer> {
  if (locks === 'redis') {
    const common = { env: {}, stop: () => redis.stop(), start: () => redis.start(), destroy: async () => {} };
    if (redis instanceof RedisServer)
      return { ...common, link: () => ProxyLink.start([redis.port], ([port]) => ({ LOCKSTEP_REDIS_URL: `redis://127.0.0.1:${port}` })) };
    // a cluster client follows the addresses the nodes announce: LOCKSTEP_REDIS_CLUSTER_NAT sends them through the link
    const ports = redis.nodes.map((node) => node.port);
    const env = (proxies: number[]): Record<string, string> => ({
      LOCKSTEP_REDIS_CLUSTER: `127.0.0.1:${proxies[0]}`,
      LOCKSTEP_REDIS_CLUSTER_NAT: ports.map((port, i) => `127.0.0.1:${port}=127.0.0.1:${proxies[i]}`).join(','),
    });
    return { ...common, link: () => ProxyLink.start(ports, env) };
  }
  if (locks === 'etcd') {
    const etcd = await EtcdServer.start();
    const via = (port: number): Record<string, string> => ({ LOCKSTEP_LOCK_BACKEND: 'etcd', LOCKSTEP_ETCD_HOSTS: `http://127.0.0.1:${port}` });
    return {
      env: via(etcd.port),
      link: () => ProxyLink.start([etcd.port], ([port]) => via(port as number)),
      stop: () => etcd.stop(),
      start: () => etcd.start(),
      destroy: () => etcd.destroy(),
    };
  }
  const double = await ConsulDouble.start();
  const via = (port: number): Record<string, string> => ({ LOCKSTEP_LOCK_BACKEND: 'consul', LOCKSTEP_CONSUL_ADDR: `http://127.0.0.1:${port}` });
  const unsupported = (): Promise<void> => Promise.reject(new Error('the Consul double is not restarted'));
  return {
    env: { ...via(double.port), LOCKSTEP_LOCK_TTL_MS: '10000' },
    link: () => ProxyLink.start([double.port], ([port]) => via(port as number)),
    stop: unsupported,
    start: unsupported,
    destroy: () => double.close(),
  };
}
