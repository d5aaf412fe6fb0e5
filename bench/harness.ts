import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { Pool } from 'undici';
import { freePort, waitFor } from '../test/support/ports.js';

/** A helper process of the benchmark (receiver, bare intake), started with tsx and ready when it says so. */
export async function startHelper(script: string): Promise<{ url: string; stop(): void }> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL(script, import.meta.url)), String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await waitFor(`${script} to start`, () => output.includes('ready'), 15_000);
  return { url: `http://127.0.0.1:${port}`, stop: () => child.kill('SIGKILL') };
}

export async function receiverCount(receiverUrl: string): Promise<number> {
  return ((await (await fetch(`${receiverUrl}/__stats`)).json()) as { count: number }).count;
}

/** Sends `total` POSTs with `inFlight` concurrent requests through one undici Pool; returns requests/s. */
export async function rawUndici(url: string, paths: string[], total: number, inFlight: number, body = '{"type":"bench","data":{}}', headers: Record<string, string> = {}): Promise<number> {
  const origin = new URL(url).origin;
  const pool = new Pool(origin, { connections: inFlight, pipelining: 1 });
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (next < total) {
      const path = paths[next++ % paths.length] as string;
      const response = await pool.request({ path, method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
      await response.body.dump();
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  await pool.close();
  return total / seconds;
}

/** Total commands Redis has executed (INFO commandstats), to report commands per delivery. */
export async function redisCommands(redis: Redis): Promise<number> {
  const info = await redis.info('commandstats');
  return [...info.matchAll(/calls=(\d+)/g)].reduce((sum, match) => sum + Number(match[1]), 0);
}

/** Peak resident memory (VmHWM) of a process, in MiB. */
export function peakRssMiB(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : NaN;
}

/** Sum of a Prometheus counter's series (optionally only those whose labels match). */
export async function scrapeCounter(metricsUrl: string, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(metricsUrl)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith(name) && line.includes(labels) && !line.startsWith(`${name}_`))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
}
