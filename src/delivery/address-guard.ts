import { BlockList, isIP, isIPv4 } from 'node:net';

/**
 * The address guard (SSRF protection): delivery may not reach loopback, private, link-local,
 * CGNAT, multicast, reserved or cloud-metadata addresses, in IPv4 or IPv6, including IPv6 forms
 * that embed an IPv4 address (mapped, compatible, 6to4, NAT64). The delivery client applies it to
 * the RESOLVED address at connect time, so a DNS name that re-binds to 127.0.0.1 cannot pass.
 */

const METADATA_V4 = ['169.254.169.254', '169.254.170.2', '100.100.100.200'];
const METADATA_V6 = ['fd00:ec2::254'];

const V4_RANGES: [network: string, prefix: number, reason: string][] = [
  ['0.0.0.0', 8, 'unspecified'], ['10.0.0.0', 8, 'private'], ['100.64.0.0', 10, 'cgnat'], ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'], ['172.16.0.0', 12, 'private'], ['192.0.0.0', 24, 'reserved'], ['192.0.2.0', 24, 'documentation'],
  ['192.88.99.0', 24, 'reserved'], ['192.168.0.0', 16, 'private'], ['198.18.0.0', 15, 'reserved'], ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'], ['224.0.0.0', 4, 'multicast'], ['240.0.0.0', 4, 'reserved'],
];
const V6_RANGES: [network: string, prefix: number, reason: string][] = [
  ['::', 128, 'unspecified'], ['::1', 128, 'loopback'], ['100::', 64, 'reserved'], ['2001::', 23, 'reserved'],
  ['2001:db8::', 32, 'documentation'], ['fc00::', 7, 'private'], ['fe80::', 10, 'link-local'], ['fec0::', 10, 'site-local'], ['ff00::', 8, 'multicast'],
];

function rangeLists(ranges: [string, number, string][], type: 'ipv4' | 'ipv6'): [BlockList, string][] {
  return ranges.map(([network, prefix, reason]) => {
    const list = new BlockList();
    list.addSubnet(network, prefix, type);
    return [list, reason];
  });
}
const V4_LISTS = rangeLists(V4_RANGES, 'ipv4');
const V6_LISTS = rangeLists(V6_RANGES, 'ipv6');

/** Why `ip` may not be a delivery target, or null when it is a public unicast address. */
export function classifyAddress(ip: string): string | null {
  const address = ip.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  if (isIPv4(address)) return classifyV4(address);
  if (isIP(address) !== 6) return 'not-an-ip';
  const embedded = embeddedV4(address);
  if (embedded) return classifyV4(embedded);
  if (METADATA_V6.some((m) => sameV6(m, address))) return 'cloud-metadata';
  return V6_LISTS.find(([list]) => list.check(address, 'ipv6'))?.[1] ?? null;
}

function classifyV4(address: string): string | null {
  if (METADATA_V4.includes(address)) return 'cloud-metadata';
  if (address === '255.255.255.255') return 'broadcast';
  return V4_LISTS.find(([list]) => list.check(address, 'ipv4'))?.[1] ?? null;
}

/** The IPv4 address inside an IPv4-mapped, IPv4-compatible, NAT64 (64:ff9b::/96) or 6to4 (2002::/16) address. */
function embeddedV4(address: string): string | null {
  const words = expandV6(address);
  const v4 = (high: number, low: number): string => [high >> 8, high & 255, low >> 8, low & 255].join('.');
  const zeros = (from: number, to: number): boolean => words.slice(from, to).every((w) => w === 0);
  if (zeros(0, 5) && words[5] === 0xffff) return v4(words[6] as number, words[7] as number); // ::ffff:a.b.c.d
  if (zeros(0, 6) && ((words[6] as number) !== 0 || (words[7] as number) > 1)) return v4(words[6] as number, words[7] as number); // ::a.b.c.d
  if (words[0] === 0x64 && words[1] === 0xff9b && zeros(2, 6)) return v4(words[6] as number, words[7] as number); // NAT64
  if (words[0] === 0x2002) return v4(words[1] as number, words[2] as number); // 6to4
  return null;
}

/** An IPv6 address as its eight 16-bit words (handles `::` and a trailing dotted IPv4). */
function expandV6(address: string): number[] {
  let text = address.toLowerCase();
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted?.[1]) {
    const [a, b, c, d] = dotted[1].split('.').map(Number) as [number, number, number, number];
    text = text.slice(0, -dotted[1].length) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const parse = (part: string): number[] => (part ? part.split(':').map((w) => parseInt(w, 16)) : []);
  const front = parse(head);
  const back = tail === undefined ? [] : parse(tail);
  return [...front, ...Array(8 - front.length - back.length).fill(0), ...back];
}

function sameV6(a: string, b: string): boolean {
  return expandV6(a).join(':') === expandV6(b).join(':');
}

export interface AddressGuardOptions {
  /** Turn the guard off (development only). */
  allowPrivateNetworks: boolean;
  /** CIDRs (IPv4 or IPv6) that may be reached even though the guard would block them. */
  allowCidrs: string[];
}

export class AddressGuard {
  private readonly allowed = new BlockList();

  constructor(private readonly options: AddressGuardOptions) {
    for (const cidr of options.allowCidrs) {
      const [network = '', prefix] = cidr.split('/');
      const type = isIPv4(network) ? 'ipv4' : 'ipv6';
      if (!isIP(network)) throw new Error(`LOCKSTEP_ALLOW_CIDRS: "${cidr}" is not a CIDR such as 10.1.0.0/16 or fd00::/8`);
      this.allowed.addSubnet(network, Number(prefix ?? (type === 'ipv4' ? 32 : 128)), type);
    }
  }

  get enabled(): boolean {
    return !this.options.allowPrivateNetworks;
  }

  /** Why delivery to `ip` is refused, or null when it may go ahead. */
  check(ip: string): string | null {
    if (this.options.allowPrivateNetworks) return null;
    const reason = classifyAddress(ip);
    if (!reason) return null;
    const address = ip.replace(/^\[|\]$/g, '');
    return this.allowed.check(address, isIPv4(address) ? 'ipv4' : 'ipv6') ? null : reason;
  }

  /**
   * For receiver registration: a URL whose host is a blocked IP literal (in any spelling the URL
   * parser accepts, e.g. `http://2130706433/` or `http://[::ffff:127.0.0.1]/`) or a `localhost` name.
   */
  literalUrlProblem(url: string): string | null {
    if (this.options.allowPrivateNetworks) return null;
    let host: string;
    try {
      host = new URL(url).hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '');
    } catch {
      return 'invalid-url';
    }
    if (isIP(host)) return this.check(host);
    if (host === 'localhost' || host.endsWith('.localhost')) return this.check('127.0.0.1') ? 'loopback' : null;
    return null;
  }
}
