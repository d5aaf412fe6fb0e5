import { Etcd3 } from 'etcd3';
import { ConsulReceiverLocks } from '../../src/locks/consul.js';
import { EtcdReceiverLocks } from '../../src/locks/etcd.js';
import { RedisReceiverLocks } from '../../src/locks/redis.js';
import { groupOf, groupPrefixes } from '../../src/shard-groups.js';
import type { ReceiverLocks } from '../../src/locks/types.js';
import { ConsulDoubleProcess } from './consul-double.js';
import { EtcdServer } from './etcd.js';
import { RedisServer } from './redis.js';

/**
 * The lock services the contract suite runs against; `consul` is a real agent at LOCKSTEP_CONSUL_ADDR,
 * `redis-sharded` the Redis backend with its locks spread over 4 shard groups (src/shard-groups.ts).
 */
export type LockServiceName = 'redis' | 'redis-sharded' | 'etcd' | 'consul-double' | 'consul';
export type LockBackendName = 'redis' | 'etcd' | 'consul';

/** Everything a lock client needs, as JSON so that a child process can be handed it. */
export interface LockClientSpec {
  backend: LockBackendName;
  address: string;
  ttlMs: number;
  prefix: string;
  /** Redis only: the shard groups the locks spread over (default 1). */
  shardGroups?: number;
  /** Consul only: the shortest session TTL to ask for (the double, like a server with a low `session_ttl_min`, accepts 1 s). */
  consulMinSessionTtlS?: number;
}

/** The shard groups of `redis-sharded`. */
const SHARD_GROUPS = 4;

/** The lock TTL every contract test uses: short, so that failover tests take seconds. */
const TTL_MS = 2000;
/** The Consul backend's lock-delay (src/locks/consul.ts): a dead session's keys stay blocked this long. */
const CONSUL_LOCK_DELAY_MS = 1000;

/** A running lock service, and how to reach it. */
export interface LockService {
  name: LockServiceName;
  backend: LockBackendName;
  ttlMs: number;
  /**
   * The longest the service may take, after a holder's last renewal, before another client can
   * take its key: the TTL for Redis and etcd; for Consul the SESSION TTL (at least 10 s on a real
   * server, which may also expire it up to 2 × late) plus the lock-delay.
   */
  handsOverWithinMs: number;
  /** The service's TCP port (for a proxy in front of it). */
  port: number;
  /** A client spec for this service, through `port` (a proxy's) when given. */
  spec(prefix: string, port?: number): LockClientSpec;
  /**
   * Ends, through the service's own API, whatever keeps the holder of `receiverId` holding it, as
   * an operator (or an expiry the holder missed) would: Redis deletes the key, etcd revokes the
   * key's lease, Consul destroys the key's session.
   */
  dropHolder(prefix: string, receiverId: string): Promise<void>;
  destroy(): Promise<void>;
}

export async function startLockService(name: LockServiceName): Promise<LockService> {
  const common = { name, ttlMs: TTL_MS };
  switch (name) {
    case 'redis':
    case 'redis-sharded':
    case 'etcd': {
      const backend = name === 'etcd' ? 'etcd' : 'redis';
      const shardGroups = name === 'redis-sharded' ? SHARD_GROUPS : 1;
      const server = backend === 'redis' ? await RedisServer.start() : await EtcdServer.start();
      const scheme = backend === 'redis' ? 'redis' : 'http';
      const spec = (prefix: string, port = server.port): LockClientSpec => ({
        backend,
        address: `${scheme}://127.0.0.1:${port}`,
        ttlMs: TTL_MS,
        prefix,
        shardGroups,
      });
      const dropHolder = server instanceof RedisServer ? dropRedisHolder(server, shardGroups) : dropEtcdHolder(server);
      return { ...common, backend, handsOverWithinMs: TTL_MS, port: server.port, spec, dropHolder, destroy: () => server.destroy() };
    }
    case 'consul-double': {
      // session TTL = the lock TTL (2 s): the double allows it, as a server with session_ttl_min = 1s would
      const double = await ConsulDoubleProcess.start({ minSessionTtlMs: 1000 });
      const spec = (prefix: string, port = double.port): LockClientSpec => ({
        backend: 'consul',
        address: `http://127.0.0.1:${port}`,
        ttlMs: TTL_MS,
        prefix,
        consulMinSessionTtlS: 1,
      });
      return {
        ...common,
        backend: 'consul',
        handsOverWithinMs: TTL_MS + CONSUL_LOCK_DELAY_MS,
        port: double.port,
        spec,
        dropHolder: dropConsulHolder(double.url),
        destroy: () => double.destroy(),
      };
    }
    case 'consul': {
      const agent = new URL(process.env.LOCKSTEP_CONSUL_ADDR ?? 'http://127.0.0.1:8500');
      const agentPort = Number(agent.port || 8500);
      const spec = (prefix: string, port = agentPort): LockClientSpec => ({
        backend: 'consul',
        address: `${agent.protocol}//${agent.hostname}:${port}`,
        ttlMs: TTL_MS,
        prefix,
      });
      return {
        ...common,
        backend: 'consul',
        handsOverWithinMs: 2 * 10_000 + CONSUL_LOCK_DELAY_MS,
        port: agentPort,
        spec,
        dropHolder: dropConsulHolder(spec('').address),
        destroy: async () => {},
      };
    }
  }
}

function dropRedisHolder(server: RedisServer, shardGroups: number): LockService['dropHolder'] {
  return async (prefix, receiverId) => {
    const redis = server.client();
    try {
      await redis.del(redisLockKey(prefix, shardGroups, receiverId));
    } finally {
      redis.disconnect();
    }
  };
}

/** The key of `receiverId`'s lock in the Redis backend (src/locks/redis.ts): in its shard group's slot. */
export function redisLockKey(prefix: string, shardGroups: number, receiverId: string): string {
  const groupPrefix = shardGroups > 1 ? (groupPrefixes(prefix, shardGroups)[groupOf(receiverId, shardGroups)] as string) : prefix;
  return `${groupPrefix}:lock:${receiverId}`;
}

function dropEtcdHolder(server: EtcdServer): LockService['dropHolder'] {
  return async (prefix, receiverId) => {
    const etcd = new Etcd3({ hosts: server.url });
    try {
      const [kv] = (await etcd.get(`${prefix}/locks/${receiverId}`).exec()).kvs;
      if (kv) await etcd.leaseClient.leaseRevoke({ ID: kv.lease });
    } finally {
      etcd.close();
    }
  };
}

function dropConsulHolder(address: string): LockService['dropHolder'] {
  return async (prefix, receiverId) => {
    const response = await fetch(`${address}/v1/kv/${prefix}/locks/${receiverId}`);
    const [entry] = response.ok ? ((await response.json()) as { Session?: string }[]) : [];
    if (entry?.Session) await fetch(`${address}/v1/session/destroy/${entry.Session}`, { method: 'PUT' });
  };
}

/** A lock client (its own session) as `spec` describes. */
export function createLocks(spec: LockClientSpec, emitterId: string): ReceiverLocks {
  const options = { emitterId, ttlMs: spec.ttlMs, prefix: spec.prefix };
  if (spec.backend === 'redis') return new RedisReceiverLocks(spec.address, { ...options, shardGroups: spec.shardGroups ?? 1 });
  if (spec.backend === 'etcd') return new EtcdReceiverLocks([spec.address], options);
  return new ConsulReceiverLocks(spec.address, options, { minSessionTtlS: spec.consulMinSessionTtlS });
}
