import { existsSync, readFileSync } from 'node:fs';
import type { FastifySwaggerUiOptions } from '@fastify/swagger-ui';
import { builtDashboard } from './ui.js';

/**
 * The API docs page (/docs) under Lockstep's name and lock rather than the docs library's: the
 * dashboard's icon as favicon and, beside the name, as the logo, which leads back to the dashboard.
 */
export function docsPageOptions(): FastifySwaggerUiOptions {
  const dir = builtDashboard();
  const icon = dir && existsSync(`${dir}favicon.svg`) ? readFileSync(`${dir}favicon.svg`, 'utf8') : undefined;
  if (!icon) return { routePrefix: '/docs', theme: { title: 'Lockstep API' } };
  const nested = icon.replace('<svg ', '<svg width="32" height="32" ');
  const logo = `<svg xmlns="http://www.w3.org/2000/svg" width="190" height="32" viewBox="0 0 190 32">${nested}<text x="42" y="23" font-family="system-ui, sans-serif" font-size="20" font-weight="700" fill="#fff">Lockstep API</text></svg>`;
  return {
    routePrefix: '/docs',
    theme: { title: 'Lockstep API', favicon: [{ filename: 'favicon.svg', rel: 'icon', type: 'image/svg+xml', sizes: 'any', content: icon }] },
    logo: { type: 'image/svg+xml', content: logo, href: '/ui/', target: '_self' },
  };
}
