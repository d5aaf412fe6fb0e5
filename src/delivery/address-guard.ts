import { BlockList, isIP, isIPv4 } from 'node:net';

/**
 * The address guard (SSRF protection): delivery may not reach loopback, private, link-local,
 * CGNAT, multicast, reserved or cloud-metadata addresses, in IPv4 or IPv6, including IPv6 forms
 * that embed an IPv4 address (mapped, translated, compatible, 6to4, NAT64). The delivery client
 * applies it to the RESOLVED address at connect time, so a DNS name that re-binds to 127.0.0.1
 * cannot pass; the API applies `literalUrlProblem` at registration so obvious mistakes fail early.
 */

type Range = [network: string, prefix: number, reason: string];

// First match wins, so single addresses (metadata, broadcast) come before the ranges holding them.
const V4_RANGES: Range[] = [
  ['169.254.169.254', 32, 'cloud-metadata'], // AWS, GCP, Azure, OpenStack, DigitalOcean…
  ['169.254.170.2', 32, 'cloud-metadata'], // AWS ECS task credentials
  ['100.100.100.200', 32, 'cloud-metadata'], // Alibaba Cloud
  ['192.0.0.192', 32, 'cloud-metadata'], // Oracle Cloud
  ['168.63.129.16', 32, 'cloud-metadata'], // Azure WireServer: public-looking, answers only from inside Azure
  ['255.255.255.255', 32, 'broadcast'],
  ['0.0.0.0', 8, 'unspecified'], // "this network"; 0.0.0.0 itself reaches the local host on Linux
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'cgnat'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'reserved'], // IETF protocol assignments
  ['192.0.2.0', 24, 'documentation'],
  ['192.88.99.0', 24, 'reserved'], // deprecated 6to4 relay anycast
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'reserved'], // benchmarking
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
];

// Forms that embed an IPv4 address are unwrapped before this table is consulted (see embeddedV4).
const V6_RANGES: Range[] = [
  ['fd00:ec2::254', 128, 'cloud-metadata'], // AWS (IPv6 instance metadata)
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['64:ff9b:1::', 48, 'private'], // local-use NAT64 (RFC 8215): translates into the operator's own network
  ['100::', 64, 'reserved'], // discard-only
  ['2001::', 23, 'reserved'], // IETF protocol assignments, incl. Teredo 2001::/32
  ['2001:db8::', 32, 'documentation'],
  ['3fff::', 20, 'documentation'],
  ['fc00::', 7, 'private'], // unique local
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'site-local'],
  ['ff00::', 8, 'multicast'],
];

/** Only 2000::/3 holds global unicast today; anything else left over is unallocated or special. */
const GLOBAL_UNICAST_V6 = subnetList('2000::', 3, 'ipv6');

const V4_LISTS = V4_RANGES.map(([network, prefix, reason]) => [subnetList(network, prefix, 'ipv4'), reason] as const);
const V6_LISTS = V6_RANGES.map(([network, prefix, reason]) => [subnetList(network, prefix, 'ipv6'), reason] as const);

function subnetList(network: string, prefix: number, family: 'ipv4' | 'ipv6'): BlockList {
  const list = new BlockList();
  list.addSubnet(network, prefix, family);
  return list;
}

/** `[::1]` → `::1`, `fe80::1%eth0` → `fe80::1`: the forms URLs and resolvers hand us, as BlockList wants them. */
function normalizeIp(ip: string): string {
  return ip
    .trim()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/%.*$/, '')
    .toLowerCase();
}

/**
 * Why `ip` may not be a delivery target ('loopback', 'private', 'link-local', 'cgnat', 'multicast',
 * 'reserved', 'unspecified', 'cloud-metadata', 'broadcast', 'documentation', 'site-local'), or
 * null when it is a public unicast address. Anything that is not an IP address is 'not-an-ip'.
 */
export function classifyAddress(ip: string): string | null {
  const address = normalizeIp(ip);
  if (isIPv4(address)) return classifyV4(address);
  if (isIP(address) !== 6) return 'not-an-ip';
  const embedded = embeddedV4(expandV6(address));
  if (embedded !== null) return classifyV4(embedded);
  const listed = V6_LISTS.find(([list]) => list.check(address, 'ipv6'));
  if (listed) return listed[1];
  return GLOBAL_UNICAST_V6.check(address, 'ipv6') ? null : 'reserved';
}

function classifyV4(address: string): string | null {
  return V4_LISTS.find(([list]) => list.check(address, 'ipv4'))?.[1] ?? null;
}

/**
 * The IPv4 address inside an IPv6 address that reaches (or is routed towards) it: IPv4-mapped
 * (::ffff:0:0/96, which a dual-stack socket connects to over IPv4), IPv4-translated
 * (::ffff:0:0:0/96), IPv4-compatible (::/96), NAT64 (64:ff9b::/96) and 6to4 (2002::/16).
 * Judging the embedded address means `::ffff:8.8.8.8` is as public as 8.8.8.8 and
 * `2002:7f00:1::` is as blocked as 127.0.0.1.
 */
function embeddedV4(words: number[]): string | null {
  const [w0, w1, w2, , w4, w5, w6, w7] = words as [number, number, number, number, number, number, number, number];
  const zeros = (from: number, to: number): boolean => words.slice(from, to).every((w) => w === 0);
  const tail = (): string => wordsToV4(w6, w7);
  if (zeros(0, 5) && w5 === 0xffff) return tail();
  if (zeros(0, 4) && w4 === 0xffff && w5 === 0) return tail();
  // ::/128 and ::1 are IPv6's own unspecified and loopback addresses, not ::0.0.0.0 and ::0.0.0.1.
  if (zeros(0, 6) && (w6 !== 0 || w7 > 1)) return tail();
  if (w0 === 0x64 && w1 === 0xff9b && zeros(2, 6)) return tail();
  if (w0 === 0x2002) return wordsToV4(w1, w2);
  return null;
}

function wordsToV4(high: number, low: number): string {
  return [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.');
}

/** A valid IPv6 address as its eight 16-bit words (handles `::` and a trailing dotted IPv4). */
function expandV6(address: string): number[] {
  let text = address;
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const parse = (part: string): number[] => (part ? part.split(':').map((word) => parseInt(word, 16)) : []);
  const front = parse(head);
  const back = tail === undefined ? [] : parse(tail);
  return [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back];
}

/** Names that mean this host without asking DNS: RFC 6761 `localhost`/`*.localhost` and common /etc/hosts aliases. */
function isLocalhostName(host: string): boolean {
  return host === 'localhost' || host.endsWith('.localhost') || ['localhost.localdomain', 'ip6-localhost', 'ip6-loopback'].includes(host);
}

export interface AddressGuardOptions {
  /** Turn the guard off (development only). */
  allowPrivateNetworks: boolean;
  /** CIDRs (IPv4 or IPv6; a bare address means /32 or /128) that may be reached although the guard would block them. */
  allowCidrs: string[];
}

export class AddressGuard {
  private readonly allowed = new BlockList();
  private readonly allowPrivateNetworks: boolean;

  constructor(options: AddressGuardOptions) {
    this.allowPrivateNetworks = options.allowPrivateNetworks;
    for (const cidr of options.allowCidrs) addCidr(this.allowed, cidr);
  }

  get enabled(): boolean {
    return !this.allowPrivateNetworks;
  }

  /** Why delivery to `ip` is refused, or null when it may go ahead. */
  check(ip: string): string | null {
    if (this.allowPrivateNetworks) return null;
    const address = normalizeIp(ip);
    const reason = classifyAddress(address);
    if (reason === null || reason === 'not-an-ip') return reason;
    // BlockList also matches an IPv4-mapped address against an IPv4 subnet, so 127.0.0.0/8 covers ::ffff:127.0.0.1.
    return this.allowed.check(address, isIPv4(address) ? 'ipv4' : 'ipv6') ? null : reason;
  }

  /**
   * For receiver registration: why a URL's host is refused when it is a blocked IP literal (in any
   * spelling the URL parser accepts, e.g. `http://2130706433/`, `http://0x7f.1/` or
   * `http://[::ffff:127.0.0.1]/`) or a localhost name. Other names are judged at connect time,
   * on the addresses they resolve to then.
   */
  literalUrlProblem(url: string): string | null {
    if (this.allowPrivateNetworks) return null;
    let host: string;
    try {
      host = normalizeIp(new URL(url).hostname).replace(/\.$/, '');
    } catch {
      return 'invalid-url';
    }
    if (isIP(host)) return this.check(host);
    // localhost may resolve to either family; the connect-time lookup keeps whichever is allowed.
    if (isLocalhostName(host)) return this.check('127.0.0.1') && this.check('::1') ? 'loopback' : null;
    return null;
  }
}

/** Adds `10.1.0.0/16`, `fd00::/8` or a bare address to `list`; a mistake in the allow-list must stop start-up. */
function addCidr(list: BlockList, cidr: string): void {
  const [network = '', prefixText, extra] = cidr.trim().split('/');
  const family = isIPv4(network) ? 'ipv4' : 'ipv6';
  const bits = family === 'ipv4' ? 32 : 128;
  const prefix = prefixText === undefined ? bits : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (!isIP(network) || extra !== undefined || !(prefix <= bits)) {
    throw new Error(`LOCKSTEP_ALLOW_CIDRS: "${cidr}" is not a CIDR such as 10.1.0.0/16 or fd00::/8`);
  }
  list.addSubnet(network, prefix, family);
}
