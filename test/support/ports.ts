import { createServer } from 'node:net';

/**
 * A TCP port that was free a moment ago on 127.0.0.1 (never a service's default port). With
 * `alsoFree`, port + alsoFree was free as well (and exists): a Redis Cluster node also listens on
 * its port + 10000 and exits at once when that one is taken or above 65535.
 */
export async function freePort(alsoFree?: number): Promise<number> {
  for (;;) {
    const port = await bound(0);
    if ([2379, 2380, 6379, 8080, 8500].includes(port)) continue;
    if (alsoFree === undefined) return port;
    if (port + alsoFree <= 65535 && (await bound(port + alsoFree).catch(() => 0)) !== 0) return port;
  }
}

/** Listens on `port` (0: any) for a moment; the port it got. */
function bound(port: number): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** Polls `check` until it returns true, or throws after `timeoutMs` naming `what`. */
export async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 10_000, everyMs = 25): Promise<void> {
  const giveUpAt = Date.now() + timeoutMs;
  for (;;) {
    if (
      await Promise.resolve()
        .then(check)
        .catch(() => false)
    )
      return;
    if (Date.now() > giveUpAt) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
