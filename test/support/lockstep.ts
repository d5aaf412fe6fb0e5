import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { AcceptedMessage, Message } from '../../src/shapes/messages.js';
import type { CreatedReceiver } from '../../src/shapes/receivers.js';
import { freePort, waitFor } from './ports.js';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
export const TEST_TOKEN = 'test-token-0123456789';

/**
 * A real Lockstep process (`node dist/cli.js <role>`), as an operator would start it. Its logs
 * are kept for the test to read; `kill('SIGKILL')`, `pause()` and `resume()` are the faults.
 */
export class LockstepProcess {
  readonly logs: string[] = [];
  private readonly child: ChildProcess;
  readonly exited: Promise<number | null>;

  private constructor(
    readonly role: string,
    readonly env: Record<string, string>,
    readonly url?: string,
  ) {
    this.child = spawn(process.execPath, [CLI, role], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    for (const stream of [this.child.stdout, this.child.stderr]) {
      let partial = '';
      stream?.on('data', (chunk: Buffer) => {
        const lines = (partial + chunk.toString()).split('\n');
        partial = lines.pop() ?? '';
        this.logs.push(...lines);
      });
    }
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  static async start(role: 'all' | 'api' | 'emitter', env: Record<string, string>): Promise<LockstepProcess> {
    // A free port can be taken between freePort() and the bind (the other test lane's processes and
    // outgoing connections draw from the same range): then once more on another one.
    for (let attempt = 1; ; attempt++) {
      const port = role === 'emitter' ? undefined : await freePort();
      try {
        return await LockstepProcess.startOn(role, env, port);
      } catch (error) {
        const taken = port !== undefined && env.LOCKSTEP_PORT === undefined && String(error).includes(`port ${port} on 127.0.0.1 is in use`);
        if (!taken || attempt === 3) throw error;
      }
    }
  }

  private static async startOn(role: 'all' | 'api' | 'emitter', env: Record<string, string>, port: number | undefined): Promise<LockstepProcess> {
    const url = port ? `http://127.0.0.1:${port}` : undefined;
    const proc = new LockstepProcess(
      role,
      {
        LOCKSTEP_API_TOKEN: TEST_TOKEN,
        LOCKSTEP_LOG_LEVEL: 'info',
        LOCKSTEP_ALLOW_PRIVATE_NETWORKS: 'true',
        ...(port ? { LOCKSTEP_PORT: String(port) } : {}),
        ...env,
      },
      url,
    );
    // The banner is printed once everything is up, whatever the log level.
    const ready = (): boolean => proc.logs.some((line) => line.startsWith('Lockstep ') && line.includes(`role ${role}`));
    try {
      await waitFor(`lockstep ${role} to start`, () => ready() || proc.child.exitCode !== null, 20_000);
    } catch (error) {
      proc.child.kill('SIGKILL');
      throw error;
    }
    if (!ready()) throw new Error(`lockstep ${role} exited at start:\n${proc.logs.join('\n')}`);
    return proc;
  }

  get pid(): number {
    return this.child.pid as number;
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    this.child.kill(signal);
  }

  pause(): void {
    this.child.kill('SIGSTOP');
  }

  resume(): void {
    this.child.kill('SIGCONT');
  }

  /** SIGTERM, and SIGKILL if it has not exited within `graceMs` (a test must never hang on it). */
  async stop(graceMs = 15_000): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.exited;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }

  /** Parsed JSON log lines (the banner's plain lines are skipped). */
  json(): Record<string, unknown>[] {
    return this.logs.flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  }
}

/** A small client for the Lockstep API. */
export class ApiClient {
  constructor(
    readonly url: string,
    readonly token = TEST_TOKEN,
  ) {}

  async request<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: T; headers: Headers }> {
    const response = await fetch(`${this.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T, headers: response.headers };
  }

  async createReceiver(fields: Record<string, unknown>): Promise<CreatedReceiver> {
    const { status, body } = await this.request<CreatedReceiver>('POST', '/v1/receivers', fields);
    if (status !== 201) throw new Error(`createReceiver: ${status} ${JSON.stringify(body)}`);
    return body;
  }

  async post(eventType: string, payload: unknown, extra: Record<string, unknown> = {}): Promise<AcceptedMessage> {
    const { status, body } = await this.request<AcceptedMessage>('POST', '/v1/messages', { eventType, payload, ...extra });
    if (status !== 202) throw new Error(`post: ${status} ${JSON.stringify(body)}`);
    return body;
  }

  async message(id: string): Promise<MessageView> {
    return (await this.request<MessageView>('GET', `/v1/messages/${id}`)).body;
  }
}

/** Settings of multi-process fault tests: short TTL, no throttling floor, quick retries and reconciles. */
export const FAULT_TEST_ENV: Record<string, string> = {
  LOCKSTEP_LOCK_TTL_MS: '2000',
  LOCKSTEP_THROTTLED_MIN_MS: '0',
  LOCKSTEP_RETRY_SCHEDULE: '0.2,0.2,0.2,0.2,0.2,0.2,0.2,0.2',
  LOCKSTEP_RECONCILE_EVERY_MS: '1000',
};

/** An API process and `emitters` emitter processes (`emitter-1`…) on `env`; `stop()` stops them all. */
export async function startRoles(
  env: Record<string, string>,
  emitters: number,
): Promise<{ client: ApiClient; processes: LockstepProcess[]; stop(): Promise<void> }> {
  const processes = [await LockstepProcess.start('api', env)];
  for (let i = 1; i <= emitters; i++) processes.push(await LockstepProcess.start('emitter', { ...env, LOCKSTEP_EMITTER_ID: `emitter-${i}` }));
  return {
    client: new ApiClient(processes[0]?.url as string),
    processes,
    stop: async () => {
      for (const process of processes) await process.stop();
    },
  };
}

/** GET /v1/messages/:id, as src/shapes declares it. */
export type MessageView = Message;

export { freePort, waitFor };
