import { randomBytes } from 'node:crypto';

const CROCKFORD = '0123456789abcdefghjkmnpqrstvwxyz';

/**
 * Time-ordered ids (ULID layout: 48 bits of milliseconds, 80 random bits, Crockford base32),
 * so that listing receivers by id lists them in creation order and a cursor is just the last id.
 */
export function newId(prefix: 'rcv' | 'msg' | 'tok'): string {
  const timePart = encodeTime(Date.now());
  const random = takeRandomBytes(10);
  let randomPart = '';
  for (let i = 0; i < 16; i++) {
    // 16 characters × 5 bits = 80 bits: read them bit by bit from the 10 random bytes.
    let value = 0;
    for (let bit = 0; bit < 5; bit++) {
      const index = i * 5 + bit;
      value = (value << 1) | (((random[index >> 3] ?? 0) >> (7 - (index & 7))) & 1);
    }
    randomPart += CROCKFORD[value];
  }
  return `${prefix}_${timePart}${randomPart}`;
}

function encodeTime(ms: number): string {
  let time = ms;
  let timePart = '';
  for (let i = 0; i < 10; i++) {
    timePart = CROCKFORD[time % 32] + timePart;
    time = Math.floor(time / 32);
  }
  return timePart;
}

/** The smallest id made at `ms` or later: a bound for ranges of ids by time. */
export function firstIdAt(prefix: 'msg', ms: number): string {
  return `${prefix}_${encodeTime(Math.max(0, ms))}${'0'.repeat(16)}`;
}

/** Random bytes are drawn 4 KiB at a time: one `randomBytes` call per id cost intake ~4% of its CPU. */
const POOL_SIZE = 4096;
let pool = Buffer.alloc(0);
let poolOffset = 0;

function takeRandomBytes(count: number): Buffer {
  if (poolOffset + count > pool.length) {
    pool = randomBytes(POOL_SIZE);
    poolOffset = 0;
  }
  poolOffset += count;
  return pool.subarray(poolOffset - count, poolOffset);
}

/** When a time-ordered id was made (its first 10 characters after the prefix are the milliseconds). */
export function idTimestamp(id: string): number {
  return [...id.slice(4, 14)].reduce((ms, char) => ms * 32 + CROCKFORD.indexOf(char), 0);
}
