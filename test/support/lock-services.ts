import { ConsulReceiverLocks } from '../../src/locks/consul.js';
import { EtcdReceiverLocks } from '../../src/locks/etcd.js';
import { RedisReceiverLocks } from '../../src/locks/redis.js';
import type { ReceiverLocks } from '../../src/locks/types.js';
import { ConsulDouble } from './consul-double.js';
import { EtcdServer } from './etcd.js';
import { RedisServer } from './redis.js';

/** The lock services the contract suite runs against; `consul` is a real agent at LOCKSTEP_CONSUL_ADDR. */
export type LockServiceName = 'redis' | 'etcd' | 'consul-double' | 'consul';
export type LockBackendName = 'redis' | 'etcd' | 'consul';

/** A running lock service, and how to reach it. */
export interface LockService {
  name: LockServiceName;
  backend: LockBackendName;
  /** The lock TTL tests use with it: Consul sessions live at least 10 s. */
  ttlMs: number;
  /** How late after the TTL the server may free a dead holder's key (real Consul: up to 2 × TTL). */
  expiryLateMs: number;
  /** The service's TCP port (for a proxy in front of it). */
  port: number;
  /** The client address for a given port (the service's own, or a proxy's). */
  address(port?: number): string;
  destroy(): Promise<void>;
}

export async function startLockService(name: LockServiceName): Promise<LockService> {
  switch (name) {
    case 'redis':
    case 'etcd': {
      const server = name === 'redis' ? await RedisServer.start() : await EtcdServer.start();
      const scheme = name === 'redis' ? 'redis' : 'http';
      return { name, backend: name, ttlMs: 2000, expiryLateMs: 0, port: server.port, address: (port = server.port) => `${scheme}://127.0.0.1:${port}`, destroy: () => server.destroy() };
    }
    case 'consul-double': {
      const double = await ConsulDouble.start();
      return { name, backend: 'consul', ttlMs: 10_000, expiryLateMs: 0, port: double.port, address: (port = double.port) => `http://127.0.0.1:${port}`, destroy: () => double.close() };
    }
    case 'consul': {
      const agent = new URL(process.env.LOCKSTEP_CONSUL_ADDR ?? 'http://127.0.0.1:8500');
      const port = Number(agent.port || 8500);
      return { name, backend: 'consul', ttlMs: 10_000, expiryLateMs: 10_000, port, address: (p = port) => `${agent.protocol}//${agent.hostname}:${p}`, destroy: async () => {} };
    }
  }
}

/** A lock client (its own session) of `backend` at `address`. */
export function createLocks(backend: LockBackendName, address: string, emitterId: string, ttlMs: number, prefix: string): ReceiverLocks {
  const options = { emitterId, ttlMs, prefix };
  if (backend === 'redis') return new RedisReceiverLocks(address, options);
  if (backend === 'etcd') return new EtcdReceiverLocks([address], options);
  return new ConsulReceiverLocks(address, options);
}
