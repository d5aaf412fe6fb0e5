import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { ChildServer } from './child-server.js';
import { freePort } from './ports.js';

/**
 * A real tinyproxy (Debian's /usr/bin/tinyproxy, an HTTP proxy with CONNECT) on a free port, with a
 * generated configuration: CONNECT to any port, clients from loopback only, its outgoing connections
 * bound to `bindAddress` (127.0.0.2 by default), so a receiver can tell a request that came through
 * the proxy by its source address: the fixed egress address the feature is for. It logs every
 * CONNECT to `log` (LogLevel Connect).
 */
export class Tinyproxy extends ChildServer {
  private constructor(
    port: number,
    readonly bindAddress: string,
  ) {
    super(port, 'tinyproxy');
  }

  static async start(bindAddress = '127.0.0.2'): Promise<Tinyproxy> {
    const proxy = new Tinyproxy(await freePort(), bindAddress);
    await proxy.start();
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get log(): string {
    return join(this.dir, 'tinyproxy.log');
  }

  protected command(): [string, string[]] {
    const config = join(this.dir, 'tinyproxy.conf');
    writeFileSync(
      config,
      [
        `Port ${this.port}`,
        'Listen 127.0.0.1',
        `Bind ${this.bindAddress}`,
        'Timeout 60',
        'MaxClients 50',
        'Allow 127.0.0.1',
        `LogFile "${this.log}"`,
        'LogLevel Connect',
        `PidFile "${join(this.dir, 'tinyproxy.pid')}"`,
        '',
      ].join('\n'),
    );
    return ['tinyproxy', ['-d', '-c', config]]; // -d: stay in the foreground, a child the test can stop
  }

  protected ready(): Promise<boolean> {
    return new Promise((resolve) => {
      const socket = connect(this.port, '127.0.0.1', () => resolve(socket.end() !== undefined));
      socket.on('error', () => resolve(false));
    });
  }
}
