// Lock loss: one emitter (lock TTL 2 s) has a request in flight to a receiver that never answers
// (timeout 60 s). Freeze it (SIGSTOP) for TTL + 500 ms, so its local deadline
// (last renewal + TTL − margin) passes while it is frozen, then let it run again (SIGCONT).
//
// A frozen process can do nothing at its deadline, so the figure is the time from the first moment
// it could act past its deadline, max(deadline, SIGCONT) = SIGCONT here, to the receiver seeing
// the socket close. The deadline itself is estimated from the freeze time: the session is renewed
// every TTL/3, so the last renewal was sent within TTL/3 before the freeze, and the deadline lies in
// [freeze − TTL/3 + TTL − margin, freeze + TTL − margin], always before SIGCONT with this pause.
import { deadlineMargin } from '../../src/locks/types.js';
import { waitFor } from '../../test/support/ports.js';
import { now, sleep } from '../clock.js';
import { SHORT_TTL_MS, type BackendScenario } from '../context.js';
import { limitRow } from '../report.js';
import { Stack } from '../stack.js';

const LIMIT_MS = 100;

export const lockLoss: BackendScenario = async (ctx, backend) => {
  const { receiver } = ctx;
  const stack = await Stack.start(backend, { LOCKSTEP_LOCK_TTL_MS: String(SHORT_TTL_MS) });
  try {
    const client = await stack.api();
    const { id } = await client.createReceiver({ url: receiver.url('slow', true), eventTypes: ['bench.slow'], timeoutMs: 60_000 });
    const [emitter] = await stack.startEmitters(1);
    if (!emitter) throw new Error('no emitter');
    await receiver.reset();
    await client.post('bench.slow', { n: 1 }, { receiverIds: [id] });
    await waitFor('the request to the slow receiver', async () => (await receiver.hung()).length > 0, 30_000, 10);
    await sleep(SHORT_TTL_MS / 6); // well inside the lock's life, at no particular renewal phase
    emitter.process.pause();
    const frozenAt = now();
    await sleep(SHORT_TTL_MS + 500);
    const resumedAt = now();
    emitter.process.resume();
    let closedAt = NaN;
    await waitFor('the in-flight request to be aborted', async () => Number.isFinite((closedAt = (await receiver.hung())[0]?.closedAt ?? NaN)), 10_000, 5);
    const margin = deadlineMargin(SHORT_TTL_MS);
    const latestDeadline = frozenAt + SHORT_TTL_MS - margin;
    const earliestDeadline = latestDeadline - SHORT_TTL_MS / 3;
    const abortMs = closedAt - Math.max(latestDeadline, resumedAt);
    return [
      limitRow({
        scenario: `lock loss: holder frozen past its deadline (TTL ${SHORT_TTL_MS / 1000} s)`, backend, figure: abortMs, unit: 'ms to abort',
        baseline: null, baselineLabel: '—', target: `≤ ${LIMIT_MS} ms`, limit: LIMIT_MS,
        notes: `from max(deadline, SIGCONT) to the receiver seeing the socket close; deadline estimated at ${(earliestDeadline - frozenAt).toFixed(0)}–${(latestDeadline - frozenAt).toFixed(0)} ms after the freeze (renewals every TTL/3, margin ${margin} ms), SIGCONT at ${(resumedAt - frozenAt).toFixed(0)} ms, socket closed at ${(closedAt - frozenAt).toFixed(0)} ms`,
      }),
    ];
  } finally {
    await stack.stop();
  }
};
