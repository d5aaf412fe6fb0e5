import { accessSync, constants, mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApi } from './api/server.js';
import { ConfigError, redisTarget, type Config, type Role } from './config/index.js';
import { startFailure } from './errors.js';
import { AddressGuard } from './delivery/address-guard.js';
import { DeliveryClient } from './delivery/client.js';
import { operationalEvents } from './domain/operational-events.js';
import { Emitter } from './emitter/emitter.js';
import { createReceiverLocks, ttlProblem } from './locks/index.js';
import type { ReceiverLocks } from './locks/types.js';
import { componentLog, type Logger } from './logger.js';
import { FleetReporter, readFleet } from './metrics/fleet.js';
import { Metrics, QueueSnapshot, serveMetrics } from './metrics/index.js';
import { EmbeddedRedis } from './store/embedded-redis.js';
import { Store } from './store/index.js';
import { startTracing } from './tracing/index.js';
import type { RedisTarget } from './redis.js';

import { VERSION } from './version.js';

export { VERSION };

export interface Running {
  url: string | undefined;
  redis: RedisTarget;
  tokenSource: string;
  /** The token as a shell reads it, for the banner's example: `$(cat <file>)`, `$LOCKSTEP_API_TOKEN` or `<token>`. */
  tokenInShell: string;
  allowPrivateNetworks: boolean;
  /** Set when Redis may evict keys and the operator allowed it: the banner shows it. */
  redisWarning: string | undefined;
  stop(): Promise<void>;
}

/** Starts the parts a role runs, in dependency order; `stop()` takes them down in reverse. */
export async function startLockstep(role: Role, config: Config, log: Logger): Promise<Running> {
  const ttlTooShort = ttlProblem(config.lockBackend, config.lockTtlMs); // before anything starts: fail fast
  if (ttlTooShort) throw new ConfigError(ttlTooShort);
  const stops: (() => Promise<void>)[] = [];
  const stop = async (): Promise<void> => {
    for (const step of stops.reverse()) await step().catch((error: unknown) => log.warn({ err: error }, 'error while stopping'));
  };
  try {
    const tokens = role === 'emitter' ? undefined : resolveTokens(role, config);
    const redis = await resolveRedis(role, config, log, stops);
    const store = new Store(redis, config.redisPrefix, {
      disableAfterDeadMs: config.disableAfterDeadMs,
      retentionMs: config.retentionMs,
      minReplicas: config.redisMinReplicas,
      shardGroups: config.redisShardGroups,
    });
    const converted = await store.connect(log);
    stops.push(() => store.close());
    // Only a real upgrade is news: a fresh Redis (or a process whose peers converted everything) just got the schema key.
    if (converted) log.info({ converted }, `converted ${converted} stored messages to storage schema 2 (README "Upgrading")`);
    else if (converted === 0) log.debug('storage schema 2 set: no stored message to convert');
    const redisWarning = await store.checkEvictionPolicy(config.allowEvictingRedis, log);
    const allowPrivateNetworks = config.allowPrivateNetworks ?? (role === 'all' && process.env.NODE_ENV !== 'production');
    const guard = new AddressGuard({ allowPrivateNetworks, allowCidrs: config.allowCidrs });
    const metrics = new Metrics(config.metricsReceiverLabels);
    // started before the parts that make spans, so that it is stopped (and flushed) after them
    const tracing = await startTracing(config.tracing, { role, instanceId: config.emitterId, version: VERSION }, log);
    if (tracing) stops.push(() => tracing.shutdown());

    let url: string | undefined;
    if (tokens) {
      const locks = await startLocks(config, redis, `${config.emitterId}/api`, stops);
      const queues = new QueueSnapshot(store);
      metrics.watchQueues(queues);
      metrics.watchFleet(async () => (await readFleet(store)).map((report) => report.role));
      const app = await buildApi({
        store,
        locks,
        guard,
        metrics,
        queues,
        tokens: tokens.tokens,
        metricsTokens: config.metricsPublic ? undefined : [...tokens.tokens, ...config.metricsTokens],
        bodyLimitBytes: config.bodyLimitBytes,
        defaultTimeoutMs: config.defaultTimeoutMs,
        requireKnownEventTypes: config.requireKnownEventTypes,
        log: componentLog(log, 'api'),
        version: VERSION,
        tracing,
      });
      url = await listen(app, config);
      stops.push(() => app.close());
    }
    if (role !== 'api') {
      const locks = await startLocks(config, redis, config.emitterId, stops);
      const client = new DeliveryClient({ guard, userAgent: `Lockstep/${VERSION}`, ...(config.egressProxy ? { proxy: config.egressProxy } : {}) });
      stops.push(() => client.close());
      const emitterLog = componentLog(log, 'emitter', { emitterId: config.emitterId });
      const events = operationalEvents(store, metrics, config.requireKnownEventTypes, emitterLog);
      // stopped after the emitter, whose last batches may still report events
      stops.push(() => events.settle());
      const emitter = new Emitter({
        config,
        store,
        locks,
        client,
        metrics,
        log: emitterLog,
        reconcileEveryMs: config.reconcileEveryMs,
        tracing,
        onRecorded: (records, result) => events.recorded(records, result),
      });
      emitter.start();
      stops.push(() => emitter.stop());
      if (config.metricsPort !== undefined)
        stops.push(
          await serveMetrics(metrics, config.host, config.metricsPort, log).catch((error: unknown) =>
            Promise.reject(listenProblem(error, config.host, config.metricsPort ?? 0, 'LOCKSTEP_METRICS_PORT')),
          ),
        );
    }
    const reporter = new FleetReporter(store, metrics, { id: role === 'api' ? `${config.emitterId}/api` : config.emitterId, role, version: VERSION }, log);
    reporter.start();
    stops.push(() => reporter.stop());
    return {
      url,
      redis,
      tokenSource: tokens?.source ?? 'not used by this role',
      tokenInShell: tokens?.shell ?? '<token>',
      allowPrivateNetworks,
      redisWarning,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function resolveRedis(role: Role, config: Config, log: Logger, stops: (() => Promise<void>)[]): Promise<RedisTarget> {
  const configured = redisTarget(config);
  if (configured) return configured;
  if (role !== 'all')
    throw startFailure(
      `LOCKSTEP_REDIS_URL is required for role "${role}" (e.g. LOCKSTEP_REDIS_URL=redis://127.0.0.1:6379, or LOCKSTEP_REDIS_SENTINELS=host:port,… for Sentinel); only "all" starts a private Redis`,
    );
  makeDataDir(config.dataDir);
  const embedded = await EmbeddedRedis.start(config.dataDir, config.redisFsync);
  log.info({ dir: embedded.dir, url: embedded.url, appendfsync: config.redisFsync }, 'started embedded redis-server (AOF on)');
  stops.push(() => embedded.stop());
  return embedded.url;
}

async function startLocks(config: Config, redis: RedisTarget, identity: string, stops: (() => Promise<void>)[]): Promise<ReceiverLocks> {
  const locks = await createReceiverLocks(config, redis, identity);
  await locks.start();
  stops.push(() => locks.close());
  return locks;
}

/**
 * Role `all` outside production may run without a configured token: one is generated on first
 * start, kept in the data directory (so restarts keep it) and printed once.
 */
function resolveTokens(role: Role, config: Config): { tokens: string[]; source: string; shell: string } {
  if (config.apiTokens.length > 0)
    return {
      tokens: config.apiTokens,
      source: `LOCKSTEP_API_TOKEN (${hint(config.apiTokens[0] as string)})`,
      shell: config.apiTokens.length === 1 ? '$LOCKSTEP_API_TOKEN' : '<token>',
    };
  if (role !== 'all' || process.env.NODE_ENV === 'production') {
    throw startFailure(
      `LOCKSTEP_API_TOKEN is required for role "${role}"${process.env.NODE_ENV === 'production' ? ' in production' : ''}: set it to a long random string (comma list for rotation), e.g. LOCKSTEP_API_TOKEN=$(openssl rand -hex 24)`,
    );
  }
  const file = join(config.dataDir, 'api-token');
  if (existsSync(file)) {
    const token = readFileSync(file, 'utf8').trim();
    return { tokens: [token], source: `${file} (${hint(token)}; cat the file to see it)`, shell: catFile(file) };
  }
  const token = `lst_${randomBytes(24).toString('base64url')}`;
  makeDataDir(config.dataDir);
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return { tokens: [token], source: `generated now and saved to ${file}:\n    ${token}`, shell: catFile(file) };
}

/** `$(cat <file>)`, quoted when the path holds anything a shell would split or expand. */
function catFile(file: string): string {
  return /^[\w./-]+$/.test(file) ? `$(cat ${file})` : `$(cat '${file.replaceAll("'", "'\\''")}')`;
}

function hint(token: string): string {
  return `${token.slice(0, 6)}…`;
}

async function listen(app: FastifyInstance, config: Config): Promise<string> {
  try {
    await app.listen({ host: config.host, port: config.port });
  } catch (error) {
    throw listenProblem(error, config.host, config.port, 'LOCKSTEP_PORT');
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  return `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
}

/** Why a server could not listen, as the setting to change; anything unforeseen as it is. */
function listenProblem(error: unknown, host: string, port: number, portVariable: string): Error {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') return startFailure(`port ${port} on ${host} is in use: stop what uses it or set ${portVariable}`);
  if (code === 'EACCES')
    return new ConfigError(`${portVariable}=${port}: this user may not listen on it (ports below 1024 need privileges); choose a port from 1024 up`);
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN')
    return new ConfigError(`LOCKSTEP_HOST=${host} is not an address of this machine (${code}); use 127.0.0.1, 0.0.0.0 or one of its own addresses`);
  return error instanceof Error ? error : new Error(String(error));
}

/** The data directory must be creatable and writable: say so, naming the setting. */
function makeDataDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
  } catch (error) {
    throw new ConfigError(
      `LOCKSTEP_DATA_DIR=${dir} cannot be created (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): choose a directory this user can write`,
    );
  }
}
