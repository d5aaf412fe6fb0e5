import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { freePort } from './ports.js';

/** What a blackhole does with the bytes it swallows. */
export type BlackholeMode =
  /** dropped for good (the connections are useless afterwards: only for cuts that are never healed) */
  | 'drop'
  /** held, and delivered late, in order, on `restore()`: a partition healed before TCP gave up */
  | 'hold'
  /** held, and every connection that lived through the cut is reset on `restore()`: TCP gave up */
  | 'reset';

/**
 * A TCP proxy in front of a lock service, used to cut ONE client off: `blackhole()` keeps every
 * connection open but silently swallows what flows through it (like a network partition: requests
 * neither fail nor answer), `restore()` lets traffic flow again. The default mode drops the bytes;
 * 'hold' and 'reset' are the two honest ways a partition heals (a byte stream never loses bytes in
 * the middle, so a healed 'drop' would feed a client replies to the wrong requests).
 */
export class TcpProxy {
  private blackholed = false;
  private mode: BlackholeMode = 'drop';
  private readonly sockets = new Set<Socket>();
  /** Bytes held back during a 'hold'/'reset' blackhole, per destination socket, in order. */
  private readonly held = new Map<Socket, Buffer[]>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(targetPort: number): Promise<TcpProxy> {
    const port = await freePort();
    const server = createServer((client) => proxy.connect(client, targetPort));
    const proxy = new TcpProxy(server, port);
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    return proxy;
  }

  get isBlackholed(): boolean {
    return this.blackholed;
  }

  blackhole(mode: BlackholeMode = 'drop'): void {
    this.blackholed = true;
    this.mode = mode;
  }

  restore(): void {
    this.blackholed = false;
    const held = [...this.held];
    this.held.clear();
    if (this.mode === 'reset') {
      for (const socket of [...this.sockets]) socket.destroy();
      return;
    }
    for (const [to, chunks] of held) if (!to.destroyed) for (const chunk of chunks) to.write(chunk);
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private connect(client: Socket, targetPort: number): void {
    const upstream = createConnection(targetPort, '127.0.0.1');
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      this.sockets.add(from);
      from.on('data', (chunk: Buffer) => {
        if (!this.blackholed) to.write(chunk);
        else if (this.mode !== 'drop') {
          const queue = this.held.get(to);
          if (queue) queue.push(chunk);
          else this.held.set(to, [chunk]);
        }
      });
      from.on('close', () => {
        this.sockets.delete(from);
        to.destroy();
      });
      from.on('error', () => to.destroy());
    }
  }
}

/**
 * One client's link to a service: a TcpProxy in front of each of the service's ports (a Redis
 * Cluster's nodes), cut and healed together, and the environment that sends a Lockstep process
 * through them.
 */
export class ProxyLink {
  private constructor(
    private readonly proxies: TcpProxy[],
    /** How a Lockstep process reaches the service through the link. */
    readonly env: Record<string, string>,
  ) {}

  static async start(targetPorts: number[], env: (proxyPorts: number[]) => Record<string, string>): Promise<ProxyLink> {
    const proxies = await Promise.all(targetPorts.map((port) => TcpProxy.start(port)));
    return new ProxyLink(proxies, env(proxies.map((proxy) => proxy.port)));
  }

  get isBlackholed(): boolean {
    return this.proxies.some((proxy) => proxy.isBlackholed);
  }

  blackhole(mode: BlackholeMode = 'drop'): void {
    for (const proxy of this.proxies) proxy.blackhole(mode);
  }

  restore(): void {
    for (const proxy of this.proxies) proxy.restore();
  }

  async close(): Promise<void> {
    await Promise.all(this.proxies.map((proxy) => proxy.close()));
  }
}
