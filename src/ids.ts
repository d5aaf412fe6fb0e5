import { randomBytes } from 'node:crypto';

const CROCKFORD = '0123456789abcdefghjkmnpqrstvwxyz';

/**
 * Time-ordered ids (ULID layout: 48 bits of milliseconds, 80 random bits, Crockford base32),
 * so that listing receivers by id lists them in creation order and a cursor is just the last id.
 */
export function newId(prefix: 'rcv' | 'msg' | 'tok'): string {
  writeTime(idChars, Date.now());
  const at = takeRandomBytes(10);
  for (let i = 0; i < 16; i++) {
    // 16 characters × 5 bits = 80 bits: read them bit by bit from the 10 random bytes.
    let value = 0;
    for (let bit = 0; bit < 5; bit++) {
      const index = i * 5 + bit;
      value = (value << 1) | (((pool[at + (index >> 3)] ?? 0) >> (7 - (index & 7))) & 1);
    }
    idChars[10 + i] = CODES[value] ?? 0;
  }
  return `${prefix}_${idChars.toString('latin1')}`;
}

const CODES = Buffer.from(CROCKFORD, 'latin1');
/** One id's characters, reused: built as a string a character at a time, ids were ~2.5 % of intake's garbage. */
const idChars = Buffer.alloc(26);

/** `ms` as 10 characters at the start of `chars`, most significant first. */
function writeTime(chars: Buffer, ms: number): void {
  let time = ms;
  for (let i = 9; i >= 0; i--) {
    chars[i] = CODES[time % 32] ?? 0;
    time = Math.floor(time / 32);
  }
}

function encodeTime(ms: number): string {
  const chars = Buffer.alloc(10);
  writeTime(chars, ms);
  return chars.toString('latin1');
}

/** The smallest id made at `ms` or later: a bound for ranges of ids by time. */
export function firstIdAt(prefix: 'msg', ms: number): string {
  return `${prefix}_${encodeTime(Math.max(0, ms))}${'0'.repeat(16)}`;
}

/** Random bytes are drawn 4 KiB at a time: one `randomBytes` call per id cost intake ~4% of its CPU. */
const POOL_SIZE = 4096;
let pool = Buffer.alloc(0);
let poolOffset = 0;

/** Where `count` fresh random bytes start in `pool`. */
function takeRandomBytes(count: number): number {
  if (poolOffset + count > pool.length) {
    pool = randomBytes(POOL_SIZE);
    poolOffset = 0;
  }
  poolOffset += count;
  return poolOffset - count;
}

/** When a time-ordered id was made (its first 10 characters after the prefix are the milliseconds). */
export function idTimestamp(id: string): number {
  return [...id.slice(4, 14)].reduce((ms, char) => ms * 32 + CROCKFORD.indexOf(char), 0);
}
