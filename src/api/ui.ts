import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';
import { LockstepError } from '../errors.js';
import { errorBodyOf } from './errors.js';

/** Nothing the dashboard loads may come from anywhere else. */
const CONTENT_SECURITY_POLICY =
  "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/**
 * Where `npm run build` put the dashboard: beside this module once compiled (dist/api → dist/ui);
 * when running from src/ with tsx, in dist/ all the same (the browser needs JavaScript).
 */
export function builtDashboard(): string | undefined {
  return [new URL('../ui/', import.meta.url), new URL('../../dist/ui/', import.meta.url)]
    .map((url) => fileURLToPath(url))
    .find((dir) => existsSync(`${dir}app.js`));
}

/** The dashboard at /ui: static files only; every figure on it comes from the bearer-token API. */
export const uiRoutes: FastifyPluginAsync = async (app) => {
  const root = builtDashboard();
  if (!root) {
    app.get('/ui', { schema: { hide: true } }, async (_request, reply) =>
      reply.status(503).send(errorBodyOf(new LockstepError('LOCKSTEP_INTERNAL', 503, 'the dashboard is not built: run `npm run build`'))),
    );
    return;
  }
  await app.register(fastifyStatic, {
    root,
    prefix: '/ui/',
    decorateReply: false,
    schemaHide: true,
    setHeaders: (response) => {
      response.setHeader('content-security-policy', CONTENT_SECURITY_POLICY);
      response.setHeader('x-content-type-options', 'nosniff');
    },
  });
  // the page's relative asset links need the trailing slash
  app.get('/ui', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/ui/', 301));
  // The consumer portal: a page of the same build, under the same policy but for one thing: a company
  // may show it in an iframe of its own site. Framing gains a stranger nothing: the portal holds no
  // token until a link's fragment (never sent to a server) hands it one, kept in that frame's session only.
  const portal = readFileSync(`${root}portal.html`);
  const portalPolicy = CONTENT_SECURITY_POLICY.replace("frame-ancestors 'none'", 'frame-ancestors *');
  app.get('/ui/portal', { schema: { hide: true } }, async (_request, reply) =>
    reply
      .type('text/html; charset=utf-8')
      .header('content-security-policy', portalPolicy)
      .header('x-content-type-options', 'nosniff')
      .header('cache-control', 'no-store')
      .send(portal),
  );
};
