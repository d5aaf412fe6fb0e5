import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * Every key and its serialized value: the whole stored state, except the process reports
 * (metrics/fleet.ts), which a running process rewrites every 2 s whatever the requests do.
 */
export async function storedState(admin: Redis): Promise<string> {
  const keys = (await admin.keys('*')).filter((key) => !/:procs?(:|$)/.test(key)).sort();
  const hash = createHash('sha256');
  for (const key of keys) hash.update(key).update((await admin.dumpBuffer(key)) ?? Buffer.alloc(0));
  return `${keys.length}:${hash.digest('hex')}`;
}
