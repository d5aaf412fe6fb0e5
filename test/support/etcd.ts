import { ChildServer } from './child-server.js';
import { freePort } from './ports.js';

/**
 * A real single-member etcd (Debian's etcd-server) on free client and peer ports, its data in a
 * temporary directory. Its election timeout is short (500 ms), so its minimum lease TTL is 1 s
 * (etcd raises shorter leases to 1.5 × the election timeout, rounded up to whole seconds) and any
 * lock TTL a test picks is honoured as asked.
 *
 * `stop()` (SIGTERM, data kept) then `start()` restarts it on the same port; `kill()` is a crash
 * (SIGKILL, data kept); `pause()`/`resume()` freeze and thaw it (SIGSTOP/SIGCONT), a lock service
 * that stops answering without closing any connection.
 */
export class EtcdServer extends ChildServer {
  private constructor(
    port: number,
    private readonly peerPort: number,
  ) {
    super(port, 'etcd');
  }

  static async start(): Promise<EtcdServer> {
    const server = new EtcdServer(await freePort(), await freePort());
    await server.start();
    return server;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** A crash: SIGKILL, then waits for the process to be gone. The data directory stays. */
  async kill(): Promise<void> {
    if (this.pid !== undefined) process.kill(this.pid, 'SIGKILL');
    await this.stop();
  }

  pause(): void {
    if (this.pid !== undefined) process.kill(this.pid, 'SIGSTOP');
  }

  resume(): void {
    if (this.pid !== undefined) process.kill(this.pid, 'SIGCONT');
  }

  protected command(): [string, string[]] {
    const peer = `http://127.0.0.1:${this.peerPort}`;
    return [
      'etcd',
      [
        '--name',
        'lockstep-test',
        '--data-dir',
        this.dir,
        '--listen-client-urls',
        this.url,
        '--advertise-client-urls',
        this.url,
        '--listen-peer-urls',
        peer,
        '--initial-advertise-peer-urls',
        peer,
        '--initial-cluster',
        `lockstep-test=${peer}`,
        '--heartbeat-interval',
        '50',
        '--election-timeout',
        '500',
        '--log-level',
        'error',
      ],
    ];
  }

  protected async ready(): Promise<boolean> {
    return (await fetch(`${this.url}/health`)).ok;
  }
}
