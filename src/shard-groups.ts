/**
 * Shard groups (LOCKSTEP_REDIS_SHARD_GROUPS): the hash tags a store's receivers (src/store/keys.ts)
 * and the Redis lock backend's locks (src/locks/redis.ts) are spread over, chosen with Redis
 * Cluster's key slot (CRC16/XMODEM of the hash tag, mod 16384) to fall evenly over the slot space.
 */
const TABLE = Array.from({ length: 256 }, (_, byte) => {
  let crc = byte << 8;
  for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  return crc;
});

export const SLOTS = 16384;

/** The slot of `key`: of its `{tag}` when it has a non-empty one, as Redis decides it. */
export function slotOf(key: string): number {
  const open = key.indexOf('{');
  const close = open >= 0 ? key.indexOf('}', open + 1) : -1;
  const hashed = close > open + 1 ? key.slice(open + 1, close) : key;
  let crc = 0;
  for (const byte of Buffer.from(hashed)) crc = ((crc << 8) & 0xffff) ^ (TABLE[((crc >> 8) ^ byte) & 0xff] as number);
  return crc % SLOTS;
}

/** Every group's prefix, group g at index g (`groups` of them). */
export function groupPrefixes(prefix: string, groups: number): string[] {
  return Array.from({ length: groups }, (_, g) => groupPrefix(prefix, g, groups));
}

/** The group of an id (a receiver's, a message's, a lock name) among `groups`: its slot mod `groups`. */
export function groupOf(id: string, groups: number): number {
  return slotOf(id) % groups;
}

/**
 * Group g's prefix: the prefix's hash tag (or the prefix, without one) plus `:g<g>.<n>`, where n is
 * the first number that puts the tag into the g-th of `groups` equal ranges of slots, so that the
 * groups spread evenly over masters that split the slot space evenly (what `--cluster create` does).
 */
function groupPrefix(prefix: string, g: number, groups: number): string {
  const tagged = /^(.*)\{([^}]+)\}(.*)$/.exec(prefix);
  const [before, tag, after] = tagged ? [tagged[1] as string, tagged[2] as string, tagged[3] as string] : ['', prefix, ''];
  const [from, to] = [Math.floor((g * SLOTS) / groups), Math.floor(((g + 1) * SLOTS) / groups)];
  for (let n = 0; ; n++) {
    const candidate = `${tag}:g${g}.${n}`;
    const slot = slotOf(candidate);
    if (slot >= from && slot < to) return `${before}{${candidate}}${after}`;
  }
}
