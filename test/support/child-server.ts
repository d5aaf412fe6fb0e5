import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './ports.js';

/**
 * A real server process for tests (redis-server, etcd) on a free port with its data in a
 * temporary directory. `stop()` then `start()` keeps port and data, for restart tests.
 */
export abstract class ChildServer {
  readonly dir: string;
  private child: ChildProcess | undefined;

  protected constructor(
    readonly port: number,
    name: string,
  ) {
    this.dir = mkdtempSync(join(tmpdir(), `lockstep-${name}-`));
  }

  /** The command line that starts the server. */
  protected abstract command(): [string, string[]];
  /** True once the server answers. */
  protected abstract ready(): Promise<boolean>;

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(): Promise<void> {
    const [program, args] = this.command();
    const child = spawn(program, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    // its last words, for a server that exits before it answers (a port taken meanwhile, say):
    // said at once instead of a 20 s wait that names nothing
    let output = '';
    const keep = (chunk: Buffer): void => void (output = (output + chunk.toString()).slice(-2000));
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    // 'close', not 'exit': by then its output has all been read; an exit ends the wait at its next look
    let exited: ServerExited | undefined;
    child.once(
      'close',
      (code, signal) => (exited = new ServerExited(`${program} on port ${this.port} exited (${code ?? signal}) before it answered:\n${output}`)),
    );
    await waitFor(`${program} on port ${this.port}`, () => exited !== undefined || this.ready(), 20_000, 50);
    if (exited) throw exited;
  }

  /** A clean shutdown (SIGTERM; Redis flushes its AOF) that waits for the process to end. */
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

/** A server process ended before it answered: its port or its options were refused. */
export class ServerExited extends Error {}
