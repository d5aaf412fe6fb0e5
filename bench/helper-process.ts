import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort, waitFor } from '../test/support/ports.js';

/** A helper process of the benchmark (receiver, bare intake) on a free port. */
export interface HelperProcess {
  url: string;
  pid: number;
  stop(): void;
}

/** Starts `script` (beside this file) with tsx and the port as its argument; ready when it prints "ready". */
export async function startHelper(script: string): Promise<HelperProcess> {
  const port = await freePort();
  const path = fileURLToPath(new URL(script, import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', path, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await waitFor(`${script} to start`, () => output.includes('ready') || child.exitCode !== null, 20_000);
  if (child.exitCode !== null) throw new Error(`${script} exited at start (${child.exitCode})`);
  return { url: `http://127.0.0.1:${port}`, pid: child.pid as number, stop: () => void child.kill('SIGKILL') };
}
