import { ChildServer } from './child-server.js';
import { freePort } from './ports.js';

/**
 * A real single-member etcd (Debian's etcd-server) on free client and peer ports. Its election
 * timeout is short so that its minimum lease TTL is 2 s (etcd raises shorter leases to 3 ×
 * election timeout), which keeps failover tests quick.
 */
export class EtcdServer extends ChildServer {
  private constructor(port: number, private readonly peerPort: number) {
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

  protected command(): [string, string[]] {
    const peer = `http://127.0.0.1:${this.peerPort}`;
    return ['etcd', [
      '--name', 'lockstep-test', '--data-dir', this.dir,
      '--listen-client-urls', this.url, '--advertise-client-urls', this.url,
      '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer, '--initial-cluster', `lockstep-test=${peer}`,
      '--heartbeat-interval', '50', '--election-timeout', '500', '--log-level', 'error',
    ]];
  }

  protected async ready(): Promise<boolean> {
    return (await fetch(`${this.url}/health`)).ok;
  }
}
