import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, waitFor } from './ports.js';

/**
 * A real `redis-server` on a free port with AOF on, in a temporary directory. `stop()` and
 * `start()` again keep the same port and data, for Redis-restart tests.
 */
export class RedisServer {
  readonly dir = mkdtempSync(join(tmpdir(), 'lockstep-redis-'));
  private child: ChildProcess | undefined;

  private constructor(readonly port: number) {}

  static async start(): Promise<RedisServer> {
    const server = new RedisServer(await freePort());
    await server.start();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(): Promise<void> {
    this.child = spawn('redis-server', [
      '--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir,
      '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '',
      '--maxmemory-policy', 'noeviction', '--protected-mode', 'no',
    ], { stdio: 'ignore' });
    await waitFor(`redis-server on port ${this.port}`, () => this.ping());
  }

  /** A clean shutdown (the AOF is flushed): `SHUTDOWN` and wait for the process to end. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
    this.child = undefined;
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  client(): Redis {
    return new Redis(this.url, { maxRetriesPerRequest: null });
  }

  private async ping(): Promise<boolean> {
    const client = new Redis(this.url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    client.on('error', () => {});
    try {
      await client.connect();
      return (await client.ping()) === 'PONG';
    } finally {
      client.disconnect();
    }
  }
}
