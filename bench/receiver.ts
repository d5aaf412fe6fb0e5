// The benchmark's webhook receiver, in its own process so that it never competes with the load
// generator's event loop. Usage: node --import tsx bench/receiver.ts <port>
//
//   POST <any path>       answered 200 at once; arrival time, webhook-id and fence recorded
//   POST /hang/<name>     never answered; start and socket-close time recorded (lock-loss scenario)
//   POST /flaky/<name>    answered 500 to 5 % of requests (a seeded sequence), not recorded then;
//                         the others as POST <any path> (flaky-receiver scenario)
//   POST /slow/<ms>/<name> recorded on arrival like any other, answered 200 <ms> after it arrived (flow control)
//   GET  /__stats         { count, first, last }             (arrivals since the last reset)
//   GET  /__wait/<n>/<ms> the same, answered once n have arrived or after ms (a drain's wait: polling
//                         /__stats every 20 ms cost this process and the benchmark's CPU during the
//                         measured drain, which the raw baseline, driven from the benchmark, never paid)
//   GET  /__turnaround    { p50, p90 }: ms from an answer's end to the client's next request on
//                         that connection (the client's own time per request), and `answered`,
//                         { p50, p90 } from a request's arrival to its answer's end (the receiver's
//                         own time: a /slow/5/ answer is timed to come 5 ms after arrival on average)
//   GET  /__arrivals      { at: [], id: [], fence: [] }      (every arrival since the last reset)
//   GET  /__hung          [{ id, start, closedAt }]
//   POST /__reset         forget everything; the flaky sequence starts again
//
// Times are epoch milliseconds with sub-millisecond precision (performance.timeOrigin + now()),
// comparable with the same clock in the benchmark process.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { now } from './clock.js';
import { percentile } from './stats.js';
import type { Arrivals, HungRequest, ReceiverStats, Spread, Turnaround } from './receiver-control.js';

let arrivals: Arrivals = { at: [], id: [], fence: [] };
let hung: HungRequest[] = [];
/** When each connection's last answer was written, and the gaps from there to its next request. */
let answeredAt = new WeakMap<object, number>();
let turnarounds: number[] = [];
let answerTimes: number[] = [];

function spread(samples: number[]): Spread {
  const at = (p: number): number | null => (samples.length === 0 ? null : percentile(samples, p));
  return { p50: at(50), p90: at(90) };
}

function stats(): ReceiverStats {
  return { count: arrivals.at.length, first: arrivals.at[0] ?? null, last: arrivals.at.at(-1) ?? null };
}

/** Open /__wait requests, and the fewest arrivals any of them waits for (checked on every arrival). */
let waiters: { count: number; answer: () => void }[] = [];
let wakeAt = Infinity;
const WAIT = /^\/__wait\/(\d+)\/(\d+)$/;

function wait(count: number, ms: number, answer: () => void): void {
  if (arrivals.at.length >= count) return answer();
  const waiter = { count, answer: () => {} };
  const timer = setTimeout(() => waiter.answer(), ms);
  waiter.answer = () => {
    clearTimeout(timer);
    waiters = waiters.filter((other) => other !== waiter);
    wakeAt = Math.min(Infinity, ...waiters.map((other) => other.count));
    answer();
  };
  waiters.push(waiter);
  wakeAt = Math.min(wakeAt, count);
}

function wakeWaiters(): void {
  if (arrivals.at.length < wakeAt) return;
  for (const waiter of waiters.filter(({ count }) => arrivals.at.length >= count)) waiter.answer();
}

function control(request: IncomingMessage, response: ServerResponse): boolean {
  const json = (value: unknown): void => void response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(value));
  const waitFor = request.url?.startsWith('/__wait/') ? WAIT.exec(request.url) : null;
  if (waitFor) {
    wait(Number(waitFor[1]), Number(waitFor[2]), () => json(stats()));
    return true;
  }
  switch (request.url) {
    case '/__stats':
      json(stats());
      return true;
    case '/__turnaround': {
      const turnaround: Turnaround = { ...spread(turnarounds), answered: spread(answerTimes) };
      json(turnaround);
      return true;
    }
    case '/__arrivals':
      json(arrivals);
      return true;
    case '/__hung':
      json(hung);
      return true;
    case '/__reset':
      arrivals = { at: [], id: [], fence: [] };
      hung = [];
      answeredAt = new WeakMap();
      turnarounds = [];
      answerTimes = [];
      seed = FLAKY_SEED;
      json({});
      return true;
    default:
      return false;
  }
}

function hang(request: IncomingMessage): void {
  const entry: HungRequest = { id: String(request.headers['webhook-id'] ?? ''), start: now(), closedAt: null };
  hung.push(entry);
  request.resume();
  request.socket.once('close', () => (entry.closedAt = now()));
}

const FENCE = /"fence":(\d+)/;
const FLAKY_FAILURE_RATE = 0.05;
/**
 * A small seeded generator (mulberry32), started again at every reset, so that every drain fails the
 * same requests: carried on across scenarios, it failed 4.6 % of the first 5,000 requests of a full
 * run's Redis half and 5.2 % of its etcd half's.
 */
const FLAKY_SEED = 0x5eed;
let seed = FLAKY_SEED;
function random(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const SLOW = /^\/slow\/(\d+)\//;
/** How late a /slow/ timer has fired, on average (ms): the next one is set this much short. */
let lateMs = 0;

/**
 * Answers `delayMs` after the request arrived. A plain setTimeout(5) answered after 5.3 ms at the
 * median and 6.1 at p90 here (the timer's 1 ms grain, the event loop), so 8 lanes could never
 * reach 8 × 1/5 ms whatever the client; each timer is set short by the running mean of the
 * lateness, and the answers come after `delayMs` on average, as the lanes target assumes.
 */
function answerAfter(response: ServerResponse, arrived: number, delayMs: number): void {
  const due = arrived + delayMs;
  setTimeout(
    () => {
      lateMs += 0.05 * (now() - due);
      response.end('ok');
    },
    Math.max(0, due - lateMs - now()),
  );
}

const server = createServer((request, response) => {
  if (control(request, response)) return;
  const last = answeredAt.get(request.socket);
  const arrived = now();
  if (last !== undefined) turnarounds.push(arrived - last);
  response.once('finish', () => {
    const answered = now();
    answeredAt.set(request.socket, answered);
    answerTimes.push(answered - arrived);
  });
  if (request.url?.startsWith('/hang/')) return hang(request);
  let body = '';
  request.setEncoding('utf8');
  request.on('data', (chunk: string) => (body += chunk));
  request.on('end', () => {
    if (request.url?.startsWith('/flaky/') && random() < FLAKY_FAILURE_RATE) return void response.writeHead(500).end('flaky');
    arrivals.at.push(now());
    arrivals.id.push(String(request.headers['webhook-id'] ?? ''));
    arrivals.fence.push(Number(FENCE.exec(body)?.[1] ?? 0));
    wakeWaiters();
    const delayMs = Number(SLOW.exec(request.url ?? '')?.[1] ?? 0);
    if (delayMs > 0) answerAfter(response, arrived, delayMs);
    else response.end('ok');
  });
});
server.keepAliveTimeout = 120_000;
server.headersTimeout = 0;
server.requestTimeout = 0;
server.listen(Number(process.argv[2]), '127.0.0.1', () => console.log('ready'));
