/** Calls to the Lockstep API with the bearer token kept in this browser session. */

/** The portal keeps its link's token apart from an operator's own, even in the same tab. */
const TOKEN_KEY = window.location.pathname.endsWith('/portal') ? 'lockstep.portal-token' : 'lockstep.token';

export const session = {
  token: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  signIn: (token: string): void => sessionStorage.setItem(TOKEN_KEY, token),
  signOut: (): void => sessionStorage.removeItem(TOKEN_KEY),
};

/** Raised for any answer but 2xx, with the API's own message (it names the field at fault). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Fired when the API refuses the token, so the app can ask for it again. */
export const SIGNED_OUT = 'lockstep:signed-out';

export async function api<T>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown, token = session.token()): Promise<T> {
  const headers: Record<string, string> = { authorization: `Bearer ${token ?? ''}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, { method, headers, body: body === undefined ? null : JSON.stringify(body) });
  const text = await response.text();
  const json = text ? (JSON.parse(text) as unknown) : null;
  if (!response.ok) {
    if (response.status === 401 && token === session.token()) {
      session.signOut();
      window.dispatchEvent(new Event(SIGNED_OUT));
    }
    throw new ApiError(response.status, (json as { message?: string } | null)?.message ?? response.statusText);
  }
  return json as T;
}
