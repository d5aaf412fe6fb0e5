import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from './ports.js';

/**
 * A real single-member etcd (Debian's etcd-server) on free client and peer ports, in a temporary
 * data directory. Its election timeout is short so that its minimum lease TTL is 2 s (etcd raises
 * shorter leases to 3 × election timeout), which keeps failover tests quick.
 */
export class EtcdServer {
  readonly dir = mkdtempSync(join(tmpdir(), 'lockstep-etcd-'));
  private child: ChildProcess | undefined;

  private constructor(readonly port: number, private readonly peerPort: number) {}

  static async start(): Promise<EtcdServer> {
    const server = new EtcdServer(await freePort(), await freePort());
    await server.start();
    return server;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(): Promise<void> {
    const peer = `http://127.0.0.1:${this.peerPort}`;
    this.child = spawn('etcd', [
      '--name', 'lockstep-test', '--data-dir', this.dir,
      '--listen-client-urls', this.url, '--advertise-client-urls', this.url,
      '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer, '--initial-cluster', `lockstep-test=${peer}`,
      '--heartbeat-interval', '50', '--election-timeout', '500', '--log-level', 'error',
    ], { stdio: 'ignore' });
    await waitFor(`etcd on port ${this.port}`, async () => (await fetch(`${this.url}/health`)).ok, 20_000, 50);
  }

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
}
