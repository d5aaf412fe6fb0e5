// A lock holder in its own process, so a test can kill -9 or SIGSTOP it:
//   node --import tsx test/support/lock-holder.ts <backend> <address> <receiverId> <ttlMs> <key prefix>
// It takes the receiver's lock, prints `held <fence>`, and then holds it until killed.
import { createLocks, type LockBackendName } from './lock-services.js';

const [backend, address, receiverId, ttlMs, prefix] = process.argv.slice(2) as [LockBackendName, string, string, string, string];
const locks = createLocks(backend, address, `holder-${process.pid}`, Number(ttlMs), prefix);
await locks.start();
const lock = await locks.acquire(receiverId, { waitMs: 10_000 });
if (!lock) {
  console.log('busy');
  process.exit(1);
}
console.log(`held ${lock.fence}`);
lock.lost.addEventListener('abort', () => console.log(`lost ${Date.now()}`));
setInterval(() => {}, 1 << 30);
