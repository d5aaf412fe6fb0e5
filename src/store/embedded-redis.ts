import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { Redis } from 'ioredis';
import { startFailure } from '../errors.js';

/**
 * The embedded default: a private `redis-server` child with AOF on, its data under the data
 * directory, on a free loopback port; stopped (and its AOF flushed) when Lockstep exits.
 */
export class EmbeddedRedis {
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
    readonly dir: string,
  ) {}

  /** `fsync`: `always` loses nothing acknowledged on a power cut (each write waits for the disk); `everysec` up to about a second. */
  static async start(dataDir: string, fsync: 'always' | 'everysec' = 'everysec'): Promise<EmbeddedRedis> {
    if (spawnSync('redis-server', ['--version']).error) {
      throw startFailure(
        'redis-server is not installed, and no LOCKSTEP_REDIS_URL was given.\n' +
          '  Install it:   sudo apt-get install -y redis-server   (Debian/Ubuntu)   or   brew install redis\n' +
          '  or point Lockstep at a Redis you run:   LOCKSTEP_REDIS_URL=redis://host:6379 lockstep all',
      );
    }
    const dir = resolve(dataDir, 'redis');
    mkdirSync(dir, { recursive: true });
    const port = await freeLoopbackPort();
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--appendonly',
        'yes',
        '--appendfsync',
        fsync,
        '--save',
        '',
        '--maxmemory-policy',
        'noeviction',
        '--protected-mode',
        'yes',
        '--daemonize',
        'no',
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    const server = new EmbeddedRedis(child, `redis://127.0.0.1:${port}`, dir);
    await server.waitUntilReady();
    return server;
  }

  async stop(): Promise<void> {
    // already gone: a signal (kill -9) leaves exitCode null and sets signalCode, and no second 'exit' comes
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((done) => this.child.once('exit', done));
    this.child.kill('SIGTERM'); // redis-server flushes its AOF and exits on SIGTERM
    await exited;
  }

  private async waitUntilReady(): Promise<void> {
    const giveUpAt = Date.now() + 10_000;
    for (;;) {
      if (this.child.exitCode !== null) throw startFailure(`redis-server exited at start (code ${this.child.exitCode}); see its message above`);
      const client = new Redis(this.url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
      client.on('error', () => {});
      const ok = await client.connect().then(
        () => client.ping(),
        () => null,
      );
      client.disconnect();
      if (ok === 'PONG') return;
      if (Date.now() > giveUpAt) throw startFailure('redis-server did not answer within 10 s');
      await new Promise((done) => setTimeout(done, 50));
    }
  }
}

function freeLoopbackPort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => done(typeof address === 'object' && address ? address.port : 0));
    });
  });
}
