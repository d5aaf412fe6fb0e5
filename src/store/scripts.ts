import { createHash } from 'node:crypto';
import type { RedisClient } from '../redis.js';
import { readLua } from '../lua.js';

type Arg = string | number;

/** The store's Lua scripts as typed ioredis commands (each `.lua` file sits beside this module). */
export interface StoreCommands {
  acceptMessage(numberOfKeys: number, ...keysAndArgs: Arg[]): Promise<string[]>;
  acceptHome(numberOfKeys: number, ...keysAndArgs: Arg[]): Promise<string[]>;
  acceptGroup(numberOfKeys: number, ...keysAndArgs: Arg[]): Promise<string[]>;
  finishIntake(homeCopyKey: string, intakeKey: string, messageId: string, receiverIds: string): Promise<number>;
  claimWindow(
    receiverKey: string,
    queueKey: string,
    retriesKey: string,
    fence: number,
    lockService: string,
    size: number,
    breakerThreshold: number,
    rateHorizonMs: number,
    afterSeq: number,
    ...retriesInFlight: string[]
  ): Promise<string[]>;
  /** lua/read-window.lua: a claimed window's messages, and how many of the cached ones exist. */
  readWindow(numberOfKeys: number, ...keysAndArgs: Arg[]): Promise<unknown[]>;
  /** lua/drop-gone.lua: deliveries whose message is gone leave the queue. */
  dropGone(numberOfKeys: number, ...keysAndArgs: Arg[]): Promise<number>;
  recordAttempts(numberOfKeys: number, ...keysAndArgs: Arg[]): Promise<(string | number)[]>;
  deleteReceiver(numberOfKeys: number, ...keysAndArgs: Arg[]): Promise<number>;
  markDeleting(receiverKey: string, versionKey: string): Promise<number>;
  createReceiver(
    receiverKey: string,
    receiversKey: string,
    versionKey: string,
    tenantReceiversKey: string,
    id: string,
    config: string,
    enabled: string,
    tenant: string,
  ): Promise<number>;
  updateTenant(tenantKey: string, json: string): Promise<number>;
  deleteTenant(tenantKey: string, tenantsKey: string, step: 'mark' | 'unmark' | 'drop', tenantId: string): Promise<number>;
  replaceConfig(
    receiverKey: string,
    versionKey: string,
    readConfig: string,
    nextConfig: string,
    overlap: string,
    enabled: string,
    channel: string,
    notice: string,
  ): Promise<string[]>;
  writeEventType(catalogKey: string, versionKey: string, op: 'create' | 'delete', name: string, type: string): Promise<number>;
  replaceEventType(catalogKey: string, versionKey: string, name: string, readType: string, nextType: string): Promise<'gone' | 'changed' | 'replaced'>;
  resendMessage(numberOfKeys: number, ...keysAndArgs: Arg[]): Promise<string[]>;
  /** lua/delete-payload.lua: one shard group's copy of a message loses its payload; its unfinished deliveries are cancelled. */
  deletePayload(numberOfKeys: number, ...keysAndArgs: Arg[]): Promise<unknown>;
  wakeLater(wakeKey: string, receiverId: string, delayMs: number): Promise<number>;
  promoteDue(wakeKey: string, limit: number): Promise<string[]>;
  countStats(numberOfKeys: number, ...keysAndArgs: Arg[]): Promise<number>;
  trimDead(numberOfKeys: number, ...keysAndArgs: Arg[]): Promise<number>;
  replayDead(numberOfKeys: number, ...keysAndArgs: Arg[]): Promise<number>;
  /** lua/migrate-message.lua: one message into schema 2's layout (migrate.ts). */
  migrateMessage(numberOfKeys: number, ...keysAndArgs: Arg[]): Promise<'converted' | 'skipped' | 'changed'>;
}

export type StoreRedis = RedisClient & StoreCommands;

/** A pipeline with the store's commands: ioredis adds them to pipelines too; its types do not know. */
export type StorePipeline = { [Name in keyof StoreCommands]: (...args: Parameters<StoreCommands[Name]>) => StorePipeline } & {
  /** ioredis's own, for reads that share an intake turn's pipeline (sharded-intake.ts). */
  mget(...keys: string[]): StorePipeline;
  exec(): Promise<[Error | null, unknown][] | null>;
};

/**
 * A pipeline with the store's commands. ioredis counts a script as loaded on a connection once its
 * EVAL is written, not once it ran, and a Redis Cluster pipeline it sends again (MOVED, TRYAGAIN,
 * CLUSTERDOWN: a failover) loses its fallback to EVAL: the EVALSHA sent again can come back
 * NOSCRIPT (a 500 at intake while a master was down). A script refused so never ran: `exec` runs
 * each such one again alone, by its text.
 */
export function storePipeline(redis: StoreRedis): StorePipeline {
  const pipeline = redis.pipeline() as unknown as StorePipeline;
  const exec = pipeline.exec.bind(pipeline);
  let sent = false;
  // ioredis calls `exec` again itself to resend a Cluster pipeline: those calls go straight through
  pipeline.exec = () => {
    if (sent) return exec();
    sent = true;
    return exec().then((replies) => (replies?.some(([error]) => error && unloadedScript(error)) ? runUnloaded(redis, replies) : replies));
  };
  return pipeline;
}

/** The replies, with each script refused as not loaded run again alone, in order. */
async function runUnloaded(redis: StoreRedis, replies: [Error | null, unknown][]): Promise<[Error | null, unknown][]> {
  const settled: [Error | null, unknown][] = [];
  for (const reply of replies) {
    const again = reply[0] && unloadedScript(reply[0]);
    settled.push(
      again
        ? await redis.eval(...again).then(
            (value): [null, unknown] => [null, value],
            (error: Error): [Error, null] => [error, null],
          )
        : reply,
    );
  }
  return settled;
}

/** An EVALSHA of one of the store's scripts refused with NOSCRIPT, as the arguments of the EVAL that runs it. */
function unloadedScript(error: Error): [lua: string, numberOfKeys: number | string, ...args: Arg[]] | undefined {
  if (!error.message.startsWith('NOSCRIPT')) return undefined;
  // ioredis names the command a reply error answers
  const { command } = error as Error & { command?: { name?: unknown; args?: unknown } };
  if (command?.name !== 'evalsha' || !Array.isArray(command.args)) return undefined;
  const [sha, numberOfKeys, ...args] = command.args as unknown[];
  const lua = typeof sha === 'string' ? LUA_BY_SHA.get(sha) : undefined;
  if (lua === undefined || !isArg(numberOfKeys) || !args.every(isArg)) return undefined;
  return [lua, numberOfKeys, ...args];
}

function isArg(value: unknown): value is Arg {
  return typeof value === 'string' || typeof value === 'number';
}

const SCRIPTS: [name: keyof StoreCommands, file: string, numberOfKeys?: number][] = [
  ['acceptMessage', 'accept.lua'],
  ['acceptHome', 'accept-home.lua'],
  ['acceptGroup', 'accept-group.lua'],
  ['finishIntake', 'finish-intake.lua', 2],
  ['claimWindow', 'claim.lua', 3],
  ['readWindow', 'read-window.lua'],
  ['dropGone', 'drop-gone.lua'],
  ['recordAttempts', 'record.lua'],
  ['deleteReceiver', 'delete-receiver.lua'],
  ['createReceiver', 'create-receiver.lua', 4],
  ['updateTenant', 'update-tenant.lua', 1],
  ['deleteTenant', 'delete-tenant.lua', 2],
  ['markDeleting', 'mark-deleting.lua', 2],
  ['replaceConfig', 'replace-config.lua', 2],
  ['replaceEventType', 'replace-event-type.lua', 2],
  ['writeEventType', 'write-event-type.lua', 2],
  ['replayDead', 'replay.lua'],
  ['resendMessage', 'resend.lua'],
  ['deletePayload', 'delete-payload.lua'],
  ['wakeLater', 'wake-later.lua', 1],
  ['promoteDue', 'promote-due.lua', 1],
  ['countStats', 'count-stats.lua'],
  ['trimDead', 'trim-dead.lua'],
  ['migrateMessage', 'migrate-message.lua'],
];

/** Each script's text, read once. */
const SOURCES = SCRIPTS.map(([name, file, numberOfKeys]) => ({ name, numberOfKeys, lua: readLua(import.meta.url, `./lua/${file}`) }));
/** By its SHA1, as an EVALSHA names it. */
const LUA_BY_SHA = new Map(SOURCES.map(({ lua }) => [createHash('sha1').update(lua).digest('hex'), lua]));

export function defineStoreCommands(redis: RedisClient): StoreRedis {
  for (const { name, numberOfKeys, lua } of SOURCES) redis.defineCommand(name, { lua, ...(numberOfKeys ? { numberOfKeys } : {}) });
  return redis as StoreRedis;
}
