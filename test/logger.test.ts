import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { pino, type Logger } from 'pino';
import type { FastifyBaseLogger, FastifyRequest } from 'fastify';
import { bindRequestLog, requestLog } from '../src/api/request-log.js';
import { REDACT_PATHS, serializeError } from '../src/logger-redact.js';
import { componentLog } from '../src/logger.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

/** Logs through the same serializers and redaction as createLogger, into a string. */
function capture(write: (log: Logger) => void): string {
  let out = '';
  const sink = new Writable({
    write: (chunk: Buffer, _encoding, done) => {
      out += chunk.toString();
      done();
    },
  });
  write(pino({ serializers: { err: serializeError, error: serializeError }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, sink));
  return out;
}

test('an ioredis-style error keeps its type, message, code and command name, never the command args', () => {
  const failed = Object.assign(new Error("OOM command not allowed when used memory > 'maxmemory'."), {
    command: { name: 'hset', args: ['lockstep:rcv:x', 'config', `{"secret":"${SECRET}","headers":{"authorization":"Bearer hdr"}}`] },
  });
  const error = Object.assign(new Error('EXECABORT Transaction discarded because of previous errors.'), {
    name: 'ReplyError',
    code: 'EXECABORT',
    command: { name: 'exec', args: [] },
    previousErrors: [failed],
    lastValue: `payload ${SECRET}`,
  });
  const line = capture((log) => log.error({ err: error }, 'failed'));
  assert.ok(!line.includes(SECRET) && !line.includes('Bearer hdr') && !line.includes('lastValue'), line);
  const logged = JSON.parse(line) as { err: { message: string; code: string; command: string; previousErrors: { message: string; command: string }[] } };
  assert.equal(logged.err.code, 'EXECABORT');
  assert.equal(logged.err.command, 'exec');
  assert.match(logged.err.previousErrors[0]?.message ?? '', /^OOM command not allowed/);
  assert.equal(logged.err.previousErrors[0]?.command, 'hset');
});

test('JSON errors lose the input they quote; signing keys in any message are cut; causes are serialized the same way', () => {
  let parseError: unknown;
  try {
    JSON.parse(`{"secret": "${SECRET}" oops}`);
  } catch (error) {
    parseError = error;
  }
  const wrapped = new Error(`could not use ${SECRET}`, { cause: parseError });
  const line = capture((log) => log.warn({ err: wrapped, error: parseError }, 'bad'));
  assert.ok(!line.includes('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'), line);
  assert.match(line, /whsec_\[redacted\]/);
  assert.match(line, /"cause":\{"type":"SyntaxError"/);
});

test('fields that hold data are censored whoever logs them', () => {
  const line = capture((log) =>
    log.info(
      {
        receiverId: 'rcv_1',
        secret: SECRET,
        headers: { a: 'b' },
        payload: { n: 1 },
        receiver: { secret: SECRET, config: '{}' },
        req: { headers: { authorization: 'Bearer t' } },
      },
      'x',
    ),
  );
  const logged = JSON.parse(line) as Record<string, unknown>;
  assert.equal(logged.receiverId, 'rcv_1');
  for (const field of ['secret', 'headers', 'payload']) assert.equal(logged[field], '[redacted]', field);
  assert.deepEqual(logged.receiver, { secret: '[redacted]', config: '[redacted]' });
  assert.deepEqual(logged.req, { headers: '[redacted]' });
});

test("a request's logger (made only when it logs) writes the request id, at the parent's level or the route's", () => {
  const lines = capture((log) => {
    const request = requestLog(log as FastifyBaseLogger, { reqId: 'req-1' }, {});
    request.debug('below the level');
    request.info({ n: 1 }, 'at the level');
    const quiet = requestLog(log as FastifyBaseLogger, { reqId: 'req-2' }, { level: 'warn' });
    quiet.info('below the route level');
    quiet.warn('above it');
  })
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { reqId: string; msg: string; n?: number });
  assert.deepEqual(
    lines.map(({ reqId, msg, n }) => [reqId, msg, n]),
    [
      ['req-1', 'at the level', 1],
      ['req-2', 'above it', undefined],
    ],
  );
});

test('who a request acts for is on every line it logs after, whether its logger was made before or not', () => {
  const lines = capture((log) => {
    const lazy = requestLog(log as FastifyBaseLogger, { reqId: 'req-1' }, {});
    bindRequestLog({ log: lazy } as FastifyRequest, { by: 'LOCKSTEP_API_TOKEN' });
    lazy.info('after sign-in');
    const made = requestLog(log as FastifyBaseLogger, { reqId: 'req-2' }, {});
    made.info('before sign-in');
    bindRequestLog({ log: made } as FastifyRequest, { by: 'tok_x' });
    made.info('after sign-in');
  })
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { reqId: string; msg: string; by?: string });
  assert.deepEqual(
    lines.map(({ reqId, msg, by }) => [reqId, msg, by]),
    [
      ['req-1', 'after sign-in', 'LOCKSTEP_API_TOKEN'],
      ['req-2', 'before sign-in', undefined],
      ['req-2', 'after sign-in', 'tok_x'],
    ],
  );
});

test("a part's logger binds the emitter's id once, whether or not the process's logger names it already", () => {
  for (const base of [{ emitterId: 'vm-1' }, {}]) {
    const line = capture((log) => componentLog(log.child(base), 'emitter', { emitterId: 'vm-1' }).warn('x'));
    assert.equal(line.match(/"emitterId"/g)?.length, 1, line);
    assert.match(line, /"component":"emitter"/);
  }
});
