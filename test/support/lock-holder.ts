// A lock holder in its own process, so that a test can kill -9 or SIGSTOP it:
//   node --import tsx test/support/lock-holder.ts '<LockClientSpec as JSON>' <receiverId>
// It takes the receiver's lock and prints, one line each (times are epoch ms: a deadline, kept on the
// monotonic clock, is shown as performance.timeOrigin + deadline so the test can compare it with its own):
//   held <fence> <deadline>   once it holds the lock
//   deadline <deadline>       each time a confirmed renewal moves its local deadline
//   lost <cause> <at>         when the lock is lost
// and then holds on until it is killed.
import { LockLostError } from '../../src/locks/types.js';
import { createLocks, type LockClientSpec } from './lock-services.js';

const [specJson, receiverId] = process.argv.slice(2) as [string, string];
const locks = createLocks(JSON.parse(specJson) as LockClientSpec, `holder-${process.pid}`);
await locks.start();
const lock = await locks.acquire(receiverId, { waitMs: 10_000 });
if (!lock) {
  console.log('busy');
  process.exit(1);
}
const epoch = (monotonic: number): number => Math.round(performance.timeOrigin + monotonic);
let deadline = lock.deadline();
console.log(`held ${lock.fence} ${epoch(deadline)}`);
lock.lost.addEventListener('abort', () => {
  const cause = lock.lost.reason instanceof LockLostError ? lock.lost.reason.reason : 'unknown';
  console.log(`lost ${cause} ${Date.now()}`);
});
// polls its own deadline, as an emitter does before each send: a frozen process prints nothing
setInterval(() => {
  if (lock.isHeld() && lock.deadline() !== deadline) console.log(`deadline ${epoch((deadline = lock.deadline()))}`);
}, 20);
