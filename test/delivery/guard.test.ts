import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AddressGuard, classifyAddress } from '../../src/delivery/address-guard.js';

const BLOCKED: [string, string][] = [
  ['127.0.0.1', 'loopback'], ['127.255.255.254', 'loopback'], ['10.1.2.3', 'private'], ['172.16.0.1', 'private'], ['172.31.255.255', 'private'],
  ['192.168.1.1', 'private'], ['100.64.0.1', 'cgnat'], ['100.127.255.255', 'cgnat'], ['169.254.1.1', 'link-local'], ['169.254.169.254', 'cloud-metadata'],
  ['100.100.100.200', 'cloud-metadata'], ['0.0.0.0', 'unspecified'], ['0.1.2.3', 'unspecified'], ['224.0.0.1', 'multicast'], ['239.255.255.250', 'multicast'],
  ['240.0.0.1', 'reserved'], ['255.255.255.255', 'broadcast'], ['192.0.2.1', 'documentation'], ['198.51.100.7', 'documentation'], ['203.0.113.9', 'documentation'],
  ['198.18.0.1', 'reserved'], ['192.0.0.8', 'reserved'],
  ['::1', 'loopback'], ['::', 'unspecified'], ['fe80::1', 'link-local'], ['fe80::1%eth0', 'link-local'], ['fc00::1', 'private'], ['fd12:3456::1', 'private'],
  ['fec0::1', 'site-local'], ['ff02::1', 'multicast'], ['2001:db8::1', 'documentation'], ['fd00:ec2::254', 'cloud-metadata'], ['100::1', 'reserved'],
  ['::ffff:127.0.0.1', 'loopback'], ['::ffff:7f00:1', 'loopback'], ['::ffff:10.0.0.1', 'private'], ['::ffff:169.254.169.254', 'cloud-metadata'],
  ['::127.0.0.1', 'loopback'], ['::a00:1', 'private'], ['64:ff9b::7f00:1', 'loopback'], ['64:ff9b::10.0.0.1', 'private'], ['2002:7f00:1::1', 'loopback'],
  ['2002:a9fe:a9fe::1', 'cloud-metadata'], ['2002:c0a8:101::', 'private'], ['[::1]', 'loopback'],
];
const PUBLIC = ['8.8.8.8', '1.1.1.1', '93.184.216.34', '100.128.0.1', '172.32.0.1', '192.169.0.1', '2606:4700:4700::1111', '2a00:1450:4001:82b::200e', '::ffff:8.8.8.8', '2002:808:808::1', '64:ff9b::808:808'];

test('classifyAddress blocks every non-public range, in IPv4 and IPv6 and the IPv6 forms that embed IPv4', () => {
  for (const [address, reason] of BLOCKED) assert.equal(classifyAddress(address), reason, address);
  for (const address of PUBLIC) assert.equal(classifyAddress(address), null, address);
  assert.equal(classifyAddress('example.com'), 'not-an-ip');
});

test('AddressGuard: off for development, allow-list of CIDRs, literal URL check for registration', () => {
  const guard = new AddressGuard({ allowPrivateNetworks: false, allowCidrs: ['10.20.0.0/16', 'fd00:1::/32'] });
  assert.equal(guard.check('10.20.3.4'), null, 'allow-listed');
  assert.equal(guard.check('10.21.3.4'), 'private');
  assert.equal(guard.check('fd00:1::5'), null);
  assert.equal(guard.check('127.0.0.1'), 'loopback');
  assert.equal(new AddressGuard({ allowPrivateNetworks: true, allowCidrs: [] }).check('127.0.0.1'), null);
  assert.throws(() => new AddressGuard({ allowPrivateNetworks: false, allowCidrs: ['nonsense/8'] }), /LOCKSTEP_ALLOW_CIDRS/);

  const urls: [string, string | null][] = [
    ['http://127.0.0.1/x', 'loopback'], ['http://2130706433/', 'loopback'], ['http://0x7f.1/', 'loopback'], ['http://017700000001/', 'loopback'],
    ['http://[::ffff:127.0.0.1]/', 'loopback'], ['http://[::1]:8080/', 'loopback'], ['http://localhost/', 'loopback'], ['http://api.localhost./', 'loopback'],
    ['http://169.254.169.254/latest/meta-data', 'cloud-metadata'], ['https://[fd00:ec2::254]/', 'cloud-metadata'], ['http://10.20.1.1/', null],
    ['https://example.com/hook', null], ['https://8.8.8.8/', null],
  ];
  for (const [url, reason] of urls) assert.equal(guard.literalUrlProblem(url), reason, url);
});
