import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AddressGuard, classifyAddress } from '../../src/delivery/address-guard.js';

/** Every address with the reason it is refused, or null when it is public. */
const ADDRESSES: [address: string, reason: string | null][] = [
  // IPv4 special ranges, with their edges
  ['127.0.0.1', 'loopback'],
  ['127.255.255.254', 'loopback'],
  ['10.0.0.1', 'private'],
  ['10.255.255.255', 'private'],
  ['172.16.0.1', 'private'],
  ['172.31.255.255', 'private'],
  ['192.168.0.1', 'private'],
  ['100.64.0.1', 'cgnat'],
  ['100.127.255.255', 'cgnat'],
  ['169.254.0.1', 'link-local'],
  ['0.0.0.0', 'unspecified'],
  ['0.255.255.255', 'unspecified'],
  ['224.0.0.1', 'multicast'],
  ['239.255.255.250', 'multicast'],
  ['240.0.0.1', 'reserved'],
  ['255.255.255.254', 'reserved'],
  ['255.255.255.255', 'broadcast'],
  ['192.0.2.1', 'documentation'],
  ['198.51.100.7', 'documentation'],
  ['203.0.113.9', 'documentation'],
  ['198.18.0.1', 'reserved'],
  ['198.19.255.255', 'reserved'],
  ['192.0.0.8', 'reserved'],
  ['192.88.99.1', 'reserved'],
  // cloud metadata endpoints
  ['169.254.169.254', 'cloud-metadata'],
  ['169.254.170.2', 'cloud-metadata'],
  ['100.100.100.200', 'cloud-metadata'],
  ['192.0.0.192', 'cloud-metadata'],
  ['168.63.129.16', 'cloud-metadata'],
  ['fd00:ec2::254', 'cloud-metadata'],
  // public IPv4, including the first address past each blocked range
  ['8.8.8.8', null],
  ['1.1.1.1', null],
  ['93.184.216.34', null],
  ['9.255.255.255', null],
  ['11.0.0.0', null],
  ['100.63.255.255', null],
  ['100.128.0.1', null],
  ['126.255.255.255', null],
  ['128.0.0.0', null],
  ['169.253.255.255', null],
  ['169.255.0.0', null],
  ['172.15.255.255', null],
  ['172.32.0.1', null],
  ['192.167.255.255', null],
  ['192.169.0.1', null],
  ['198.17.255.255', null],
  ['198.20.0.0', null],
  ['223.255.255.255', null],
  ['168.63.129.17', null],
  // IPv6 special ranges
  ['::1', 'loopback'],
  ['[::1]', 'loopback'],
  ['0:0:0:0:0:0:0:1', 'loopback'],
  ['::', 'unspecified'],
  ['fe80::1', 'link-local'],
  ['fe80::1%eth0', 'link-local'],
  ['FE80::ABCD', 'link-local'],
  ['febf::1', 'link-local'],
  ['fc00::1', 'private'],
  ['fdff:ffff::1', 'private'],
  ['fec0::1', 'site-local'],
  ['ff02::1', 'multicast'],
  ['ff05::fb', 'multicast'],
  ['2001:db8::1', 'documentation'],
  ['3fff:fff::1', 'documentation'],
  ['100::1', 'reserved'],
  ['2001::1', 'reserved'],
  ['2001:2::1', 'reserved'],
  ['5f00::1', 'reserved'],
  ['::1:2:3:4', 'reserved'],
  ['4000::1', 'reserved'],
  // IPv6 forms that carry an IPv4 address are judged by that address
  ['::ffff:127.0.0.1', 'loopback'],
  ['::ffff:7f00:1', 'loopback'],
  ['0:0:0:0:0:ffff:7f00:1', 'loopback'],
  ['::ffff:10.0.0.1', 'private'],
  ['::ffff:169.254.169.254', 'cloud-metadata'],
  ['::ffff:0.0.0.0', 'unspecified'],
  ['::ffff:0:7f00:1', 'loopback'],
  ['::127.0.0.1', 'loopback'],
  ['::a00:1', 'private'],
  ['::0.0.0.2', 'unspecified'],
  ['64:ff9b::7f00:1', 'loopback'],
  ['64:ff9b::10.0.0.1', 'private'],
  ['64:ff9b::a9fe:a9fe', 'cloud-metadata'],
  ['64:ff9b:1::808:808', 'private'],
  ['2002:7f00:1::1', 'loopback'],
  ['2002:a9fe:a9fe::1', 'cloud-metadata'],
  ['2002:c0a8:101::', 'private'],
  ['2002:a00:1::5', 'private'],
  // public IPv6, and embedding forms around a public IPv4
  ['2606:4700:4700::1111', null],
  ['2a00:1450:4001:82b::200e', null],
  ['2001:4860:4860::8888', null],
  ['2001:200::1', null],
  ['3fff:1000::1', null],
  ['2c0f:fb50::1', null],
  ['::ffff:8.8.8.8', null],
  ['2002:808:808::1', null],
  ['64:ff9b::808:808', null],
  // not addresses at all
  ['example.com', 'not-an-ip'],
  ['', 'not-an-ip'],
  ['1.2.3', 'not-an-ip'],
  ['256.0.0.1', 'not-an-ip'],
  ['::ffff:1.2.3.4.5', 'not-an-ip'],
];

test('classifyAddress: IPv4, IPv6, the IPv6 forms embedding IPv4, and cloud metadata', () => {
  for (const [address, reason] of ADDRESSES) assert.equal(classifyAddress(address), reason, address);
});

test('AddressGuard: off allows everything, on blocks what classifyAddress blocks', () => {
  const off = new AddressGuard({ allowPrivateNetworks: true, allowCidrs: [] });
  const on = new AddressGuard({ allowPrivateNetworks: false, allowCidrs: [] });
  assert.equal(off.enabled, false);
  assert.equal(on.enabled, true);
  for (const [address, reason] of ADDRESSES) {
    assert.equal(off.check(address), null, address);
    assert.equal(on.check(address), reason, address);
  }
});

test('AddressGuard: the allow-list lets chosen CIDRs through, IPv4 and IPv6, and covers IPv4-mapped spellings', () => {
  const guard = new AddressGuard({ allowPrivateNetworks: false, allowCidrs: ['10.20.0.0/16', 'fd00:1::/32', '127.0.0.0/8', ' 169.254.169.254 '] });
  const cases: [string, string | null][] = [
    ['10.20.3.4', null],
    ['10.21.3.4', 'private'],
    ['fd00:1::5', null],
    ['fd00:2::5', 'private'],
    ['127.0.0.1', null],
    ['127.9.9.9', null],
    ['::ffff:127.0.0.1', null],
    ['::1', 'loopback'],
    ['169.254.169.254', null],
    ['169.254.169.253', 'link-local'],
    ['192.168.1.1', 'private'],
    ['8.8.8.8', null],
    ['nonsense', 'not-an-ip'],
  ];
  for (const [address, reason] of cases) assert.equal(guard.check(address), reason, address);
});

test('AddressGuard: a malformed allow-list entry stops start-up', () => {
  for (const cidr of ['nonsense/8', '10.0.0.0/', '10.0.0.0/33', '::/129', '10.0.0.0/8/8', '10.0.0.0/x', '10.0.0/8', '']) {
    assert.throws(() => new AddressGuard({ allowPrivateNetworks: false, allowCidrs: [cidr] }), /LOCKSTEP_ALLOW_CIDRS: .* is not a CIDR/, cidr);
  }
});

test('literalUrlProblem: blocked literals in every spelling the URL parser accepts, and localhost names', () => {
  const guard = new AddressGuard({ allowPrivateNetworks: false, allowCidrs: ['10.20.0.0/16'] });
  const urls: [string, string | null][] = [
    ['http://127.0.0.1/x', 'loopback'],
    ['http://127.1/', 'loopback'],
    ['http://2130706433/', 'loopback'],
    ['http://0x7f.1/', 'loopback'],
    ['http://0x7f000001/', 'loopback'],
    ['http://017700000001/', 'loopback'],
    ['http://0177.0.0.1/', 'loopback'],
    ['http://127.0.0.1.:8080/', 'loopback'],
    ['http://\u2460\u2461\u2466.0.0.1/', 'loopback'], // circled digits, mapped to ASCII by the URL parser
    ['http://[::1]:8080/', 'loopback'],
    ['http://[::ffff:127.0.0.1]/', 'loopback'],
    ['http://[0:0:0:0:0:ffff:7f00:1]/', 'loopback'],
    ['http://[::127.0.0.1]/', 'loopback'],
    ['http://[64:ff9b::127.0.0.1]/', 'loopback'],
    ['http://[2002:7f00:1::]/', 'loopback'],
    ['http://0/', 'unspecified'],
    ['http://0.0.0.0:80/', 'unspecified'],
    ['http://localhost/', 'loopback'],
    ['http://LOCALHOST:3000/', 'loopback'],
    ['http://localhost./', 'loopback'],
    ['http://api.localhost./', 'loopback'],
    ['http://a.b.localhost/', 'loopback'],
    ['http://localhost.localdomain/', 'loopback'],
    ['http://ip6-localhost/', 'loopback'],
    ['http://169.254.169.254/latest/meta-data', 'cloud-metadata'],
    ['http://[::ffff:a9fe:a9fe]/', 'cloud-metadata'],
    ['https://[fd00:ec2::254]/', 'cloud-metadata'],
    ['http://10.0.0.1/', 'private'],
    ['http://192.168.1.1:8080/', 'private'],
    ['http://100.64.1.1/', 'cgnat'],
    ['http://[fc00::1]/', 'private'],
    ['http://[fe80::1%25eth0]/', 'invalid-url'],
    ['not a url', 'invalid-url'],
    ['http://10.20.1.1/', null], // allow-listed
    ['https://example.com/hook', null],
    ['https://8.8.8.8/', null],
    ['http://[2606:4700:4700::1111]/', null],
    // names other than localhost are judged at connect time, on what they resolve to then
    ['https://localhost.example.com/', null],
    ['https://mylocalhost/', null],
    ['http://127.0.0.1.nip.io/', null],
  ];
  for (const [url, reason] of urls) assert.equal(guard.literalUrlProblem(url), reason, url);

  const off = new AddressGuard({ allowPrivateNetworks: true, allowCidrs: [] });
  for (const [url] of urls) assert.equal(off.literalUrlProblem(url), null, url);
  const loopbackAllowed = new AddressGuard({ allowPrivateNetworks: false, allowCidrs: ['127.0.0.0/8'] });
  assert.equal(loopbackAllowed.literalUrlProblem('http://localhost:3000/'), null, 'localhost may resolve to the allowed 127.0.0.1');
  assert.equal(loopbackAllowed.literalUrlProblem('http://[::1]/'), 'loopback');
});
