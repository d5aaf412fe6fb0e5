import { Client } from 'undici';

/** Idle connections kept per origin for the next sender; beyond it a returned one is closed. */
const IDLE_PER_ORIGIN = 64;
/** Idle connections kept in all; beyond it a returned one is closed (a fleet's origins, not every one ever seen). */
const IDLE_IN_ALL = 1024;

/**
 * Connections held by senders that send one request at a time (a turn's lanes). A sender keeps the
 * same undici Client, one connection, for as long as it sends to one origin, and gives it back to
 * the origin's idle list when done, for the next sender (as a Pool would share it).
 *
 * Why not the Agent's Pool: with one request in flight undici marks a Pool's client busy until one
 * event-loop turn after the response (its keep-alive check), so the next request dispatched in the
 * response's own turn opened a second connection, and waiting for that turn cost every delivery an
 * extra trip round the event loop (~10 % of a hot receiver's rate here). A Client of its own takes
 * the next request at once: it queues it behind its own check and writes it in the same turn.
 */
export class HeldConnections {
  private readonly held = new WeakMap<object, { origin: string; client: Client }>();
  private readonly idle = new Map<string, Client[]>();
  private idleCount = 0;
  private readonly open = new Set<Client>();

  constructor(private readonly options: Client.Options) {}

  /** The connection `sender` sends to `origin` through (the one it held for another origin is given back first). */
  for(sender: object, origin: string): Client {
    const mine = this.held.get(sender);
    if (mine?.origin === origin && !mine.client.destroyed) return mine.client;
    if (mine) this.letGo(sender);
    const client = this.takeIdle(origin) ?? this.create(origin);
    this.held.set(sender, { origin, client });
    return client;
  }

  /** `sender` sends no more for now: its connection goes back to the idle list (or is closed beyond it). */
  letGo(sender: object): void {
    const mine = this.held.get(sender);
    if (!mine) return;
    this.held.delete(sender);
    const idle = this.idle.get(mine.origin) ?? [];
    if (mine.client.destroyed || idle.length >= IDLE_PER_ORIGIN || this.idleCount >= IDLE_IN_ALL) return void this.close(mine.client);
    idle.push(mine.client);
    this.idle.set(mine.origin, idle);
    this.idleCount++;
  }

  /** Waits for requests in flight, then closes every connection, held or idle. */
  async closeAll(): Promise<void> {
    await Promise.all([...this.open].map((client) => client.close()));
    this.idle.clear();
    this.idleCount = 0;
  }

  private takeIdle(origin: string): Client | undefined {
    const idle = this.idle.get(origin);
    const client = idle?.pop();
    if (!client) return undefined;
    this.idleCount--;
    if (idle?.length === 0) this.idle.delete(origin);
    return client.destroyed ? this.takeIdle(origin) : client;
  }

  private create(origin: string): Client {
    const client = new Client(origin, this.options);
    this.open.add(client);
    return client;
  }

  private close(client: Client): void {
    this.open.delete(client);
    if (!client.destroyed) client.close().catch(() => undefined);
  }
}
