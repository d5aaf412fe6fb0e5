import { connect } from 'node:net';

export interface RawRequest {
  method: string;
  /** Sent as is: may hold anything a client could put on the request line. */
  path: string;
  /** Header lines sent byte for byte (latin-1), so values Node's own client refuses can be sent too. */
  headers: [string, string][];
  body?: Buffer;
}

/**
 * One HTTP/1.1 request over a raw socket, for hostile-input tests: it can send what `fetch` and
 * `http.request` refuse to (CR, LF, NUL in header values, non-UTF-8 bodies). Resolves with the
 * status code of the answer, or 0 when the server closed the connection without one.
 */
export function rawRequest(url: string, request: RawRequest, timeoutMs = 10_000): Promise<number> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let answer = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms to ${request.method} ${request.path.slice(0, 100)}`));
    }, timeoutMs);
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      answer += chunk;
      const status = /^HTTP\/1\.1 (\d{3}) /.exec(answer);
      if (status) {
        clearTimeout(timer);
        socket.destroy();
        resolve(Number(status[1]));
      }
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(0);
    });
    socket.on('error', () => {}); // a reset after the answer is fine; no answer resolves 0 on close
    const body = request.body ?? Buffer.alloc(0);
    const head = [
      `${request.method} ${request.path} HTTP/1.1`,
      `host: ${hostname}:${port}`,
      'connection: close',
      `content-length: ${body.length}`,
      ...request.headers.map(([name, value]) => `${name}: ${value}`),
    ];
    socket.write(Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'latin1'), body]));
  });
}
