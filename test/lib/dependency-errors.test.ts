import assert from 'node:assert/strict';
import { test } from 'node:test';
import { redisFailure } from '../../src/dependency-errors.js';

/** An error as ioredis gives it: a reply error, and a discarded MULTI's `previousErrors`. */
function replyError(message: string, previous?: Error[]): Error {
  return Object.assign(new Error(message), previous ? { previousErrors: previous } : {});
}

// What a Redis Cluster answers while a master is down or its slots move (test/faults/redis-restart.test.ts
// stops one under load): each is "Redis unavailable" (503, retry), never an unexpected 500.
test('a cluster with a master down or moving slots is Redis unavailable, not an unexpected error', () => {
  for (const error of [
    replyError('CLUSTERDOWN The cluster is down'),
    replyError('MOVED 14991 127.0.0.1:46291'),
    replyError('ASK 14991 127.0.0.1:46291'),
    replyError('TRYAGAIN Multiple keys request during rehashing of slot'),
    replyError('Too many Cluster redirections. Last error: Error: Connection is closed.'),
    // a node stopped under a write, a connect that timed out or found no route, no node answering at all
    replyError('write EPIPE'),
    replyError('connect ETIMEDOUT'),
    replyError('connect EHOSTUNREACH 10.0.0.7:6379'),
    replyError('connect ENETUNREACH 10.0.0.7:6379'),
    replyError('None of startup nodes is available'),
    replyError('Failed to refresh slots cache.'),
    // a script the node does not have (not replicated) that ioredis could not load during the failover: it did not run
    replyError('NOSCRIPT No matching script. Please use EVAL.'),
    replyError('EXECABORT Transaction discarded because of previous errors.', [
      replyError('MOVED 5646 127.0.0.1:36973'),
      replyError('MOVED 5646 127.0.0.1:36973'),
    ]),
  ]) {
    assert.equal(redisFailure(error)?.code, 'LOCKSTEP_REDIS_UNAVAILABLE', error.message);
  }
  // a transaction discarded for anything else stays what it is
  assert.equal(
    redisFailure(replyError('EXECABORT Transaction discarded because of previous errors.', [replyError('WRONGTYPE Operation against a key')])),
    undefined,
  );
  assert.equal(redisFailure(replyError('ERR Error running script')), undefined);
});
