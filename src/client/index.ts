import createClient, { type Client, type ClientOptions } from 'openapi-fetch';
import type { components, operations, paths, webhooks } from './schema.js';

/**
 * `lockstep/client`: a typed client for the Lockstep API. The types are generated from the OpenAPI
 * document the API serves (`npm run client:generate` writes ./schema.ts), and openapi-fetch turns
 * them into typed `GET`/`POST`/`PATCH`/`DELETE` calls: paths, parameters, bodies and answers,
 * including the documented error bodies, are checked by the compiler. Nothing here imports the
 * server, so a producer installs Lockstep for this file alone.
 */
export type { components, operations, paths, webhooks };

/** The body a receiver subscribed to one of Lockstep's own events gets, e.g. `LockstepEvent<'lockstep.delivery.dead'>`. */
export type LockstepEvent<T extends keyof webhooks> = webhooks[T]['post']['requestBody']['content']['application/json'];

export type LockstepClient = Client<paths>;

export interface LockstepClientOptions extends Omit<ClientOptions, 'baseUrl' | 'headers'> {
  /** The API's URL, e.g. `http://127.0.0.1:8080` (no `/v1`: the paths carry it). */
  baseUrl: string;
  /** A bearer token of `LOCKSTEP_API_TOKEN`. */
  token: string;
  /** Headers sent with every request besides the token's. */
  headers?: Record<string, string>;
}

export function createLockstepClient({ baseUrl, token, headers, ...options }: LockstepClientOptions): LockstepClient {
  return createClient<paths>({ ...options, baseUrl: baseUrl.replace(/\/+$/, ''), headers: { ...headers, authorization: `Bearer ${token}` } });
}
