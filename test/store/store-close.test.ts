import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Store } from '../../src/store/index.js';
import { RedisServer } from '../support/redis.js';

// A start that fails early (a refused shard-group count, an unreachable Redis) closes the store
// while its drain queues still start up on their connection: nothing may escape as an unhandled
// rejection then (it ends the process, and failed CI once: test/store/shard-groups.test.ts).
let server: RedisServer;
before(async () => {
  server = await RedisServer.start();
});
after(() => server.destroy());

test('a store closed while its drain queues still start up leaves no unhandled rejection', async () => {
  const escaped: unknown[] = [];
  const onRejection = (reason: unknown): void => {
    escaped.push(reason);
  };
  process.on('unhandledRejection', onRejection);
  try {
    for (let round = 0; round < 5; round++) {
      const store = new Store(server.url, `close${round}`, { disableAfterDeadMs: 3_600_000, shardGroups: 4 });
      // closed the moment the queues' connection is up: their start-up is under way
      const connection = store.drains.queues[0]?.opts.connection;
      assert.ok(connection && 'once' in connection);
      const closed = new Promise<void>((resolve) => connection.once('connect', () => void store.close().then(resolve)));
      await closed;
    }
    await sleep(300);
  } finally {
    process.off('unhandledRejection', onRejection);
  }
  assert.deepEqual(escaped.map(String), []);
});
