import { ProxyAgent, type Agent } from 'undici';
import type { AddressGuard } from './address-guard.js';
import { allowedAddresses, type Resolver } from './guarded-connector.js';

/**
 * Delivery through an HTTP CONNECT proxy (`LOCKSTEP_EGRESS_PROXY`), for senders whose traffic must
 * leave from one fixed address. The address guard cannot run inside the connection any more (the
 * socket goes to the proxy), so it runs before it: the receiver's host is resolved here, with the
 * same resolver as without a proxy, every address is checked, and the proxy is asked to CONNECT to
 * the first allowed *address*, never to the name. The proxy's own DNS is therefore never used, and
 * a name that resolves to a blocked address is refused before the proxy hears of it.
 *
 * What the guard sees: the addresses Lockstep's resolver gives for the receiver's host, as without
 * a proxy. What it cannot see: where the proxy really connects (it is trusted to CONNECT to the
 * address given, and to nothing else), what that address reaches from the proxy's network (an
 * address that is public here may be routed to a private network there), and the proxy itself (its
 * address is the operator's setting and is never checked). The request inside the tunnel is
 * end-to-end: the proxy sees only the host and port of the CONNECT, never headers or body, and
 * adds no `Via` header; with https it sees only the TLS handshake, whose SNI and certificate check
 * use the receiver's host name (taken from the Host header, which keeps the name).
 */
export class EgressProxy {
  readonly agent: ProxyAgent;

  constructor(
    uri: string,
    agentOptions: Agent.Options,
    private readonly guard: AddressGuard,
    private readonly resolve: Resolver,
  ) {
    this.agent = new ProxyAgent({ ...agentOptions, uri, proxyTunnel: true });
  }

  /** The origin the request is dispatched to: the receiver's scheme and port at its first allowed address. */
  async origin(url: URL): Promise<string> {
    const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    const [first] = await allowedAddresses(hostname, this.guard, this.resolve);
    const host = first?.family === 6 ? `[${first.address}]` : (first?.address ?? hostname);
    return `${url.protocol}//${host}${url.port ? `:${url.port}` : ''}`;
  }
}
