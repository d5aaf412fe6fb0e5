import type { FastifyInstance } from 'fastify';
import { closest } from '../lib/closest.js';

/** What a request that matched no route most likely meant. */
export type Miss = { allow: string[] } | { near: string | undefined };

interface Known {
  method: string;
  path: string;
  pattern: RegExp;
}

/**
 * Gathers every route as it is registered (`onRoute`: call this before any route), and tells of a
 * request that matched none either the methods its path does take (a 405 with `Allow`) or the route
 * nearest to what was asked, its parameters filled from the request (`/v1/receivers/rcv_…/dead-letters`).
 */
export function routeMisses(app: FastifyInstance): (method: string, path: string) => Miss {
  const routes: Known[] = [];
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routes.push({ method, path: route.url, pattern: patternOf(route.url) });
  });
  return (method, path) => {
    const allow = [...new Set(routes.filter((route) => route.pattern.test(path)).map((route) => route.method))].sort();
    if (allow.length > 0 && !allow.includes(method)) return { allow };
    const asked = path.split('/');
    const candidates = routes.filter((route) => !route.path.includes('*')).map((route) => filled(route.path, asked));
    return { near: closest(path, [...new Set(candidates)]) };
  };
}

/** `/v1/receivers/:id` as a regular expression that matches the paths it serves. */
function patternOf(path: string): RegExp {
  const source = path
    .split('/')
    .map((segment) => (segment.startsWith(':') ? '[^/]+' : segment === '*' ? '.*' : segment.replace(/[.+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${source}$`);
}

/** The route's path with each `:param` taken from the same position of the request's path. */
function filled(path: string, asked: string[]): string {
  return path
    .split('/')
    .map((segment, i) => (segment.startsWith(':') ? (asked[i] ?? segment) : segment))
    .join('/');
}
