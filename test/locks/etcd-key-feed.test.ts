import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Etcd3 } from 'etcd3';
import { EtcdKeyFeed, type KeyChange } from '../../src/locks/etcd-key-feed.js';
import { EtcdServer } from '../support/etcd.js';
import { waitFor } from '../support/ports.js';
import { TcpProxy } from '../support/tcp-proxy.js';

/**
 * The etcd backend's one prefix watch per process, on a real etcd behind a proxy: changes reach
 * the key's subscribers; a watch etcd cancels because the history it would resume from was
 * compacted while the link was down is replaced, and changes reach them again.
 */
let etcd: EtcdServer;
let proxy: TcpProxy;
let admin: Etcd3;
let watched: Etcd3;
let feed: EtcdKeyFeed;
const changes: KeyChange[] = [];

before(async () => {
  etcd = await EtcdServer.start();
  proxy = await TcpProxy.start(etcd.port);
  admin = new Etcd3({ hosts: etcd.url });
  watched = new Etcd3({ hosts: `http://127.0.0.1:${proxy.port}` });
  feed = new EtcdKeyFeed(watched, 'feed/');
  await feed.start(5000);
  feed.subscribe('feed/a', (change) => changes.push(change));
});

after(async () => {
  feed?.close();
  watched?.close();
  admin?.close();
  await proxy?.close();
  await etcd?.destroy();
});

test("a put and a delete of a subscribed key reach its subscriber with their revisions; other keys' changes do not", async () => {
  const put = await admin.put('feed/a').value('x').exec();
  await admin.put('feed/b').value('y').exec();
  const deleted = await admin.delete().key('feed/a').exec();
  await waitFor('both changes', () => changes.length >= 2, 5000, 10);
  assert.deepEqual(changes, [
    { type: 'put', revision: Number(put.header.revision), lease: '0' },
    { type: 'delete', revision: Number(deleted.header.revision), lease: '0' },
  ]);
});

test('a watch cancelled by etcd (its resume point compacted while the link was down) is replaced, and changes arrive again', async () => {
  changes.length = 0;
  proxy.blackhole('reset');
  for (let i = 0; i < 5; i++) await admin.put('feed/a').value(String(i)).exec();
  const { header } = await admin.delete().key('feed/a').exec();
  await admin.kv.compact({ revision: header.revision, physical: true });
  proxy.restore(); // every connection through the cut is reset: the watch resumes from before the compaction
  // the changes made during the cut are lost with the history; what is written after the new watch is not
  await waitFor(
    'a put after the cut to reach the subscriber',
    async () => {
      await admin.put('feed/a').value('after').exec();
      return changes.some((change) => change.type === 'put' && change.revision > Number(header.revision));
    },
    15_000,
    500,
  );
});
