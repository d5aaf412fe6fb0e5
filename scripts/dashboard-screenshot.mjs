// Regenerates docs/dashboard.png, the README's picture of the dashboard: starts `lockstep all`
// (embedded Redis, temporary data dir), three receivers on a local server (fast, slow, failing),
// sends 20 messages a second for 40 s, and photographs the overview with Debian's chromium.
// Run after `npm run build`: node scripts/dashboard-screenshot.mjs
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium } from 'playwright-core';

const dataDir = mkdtempSync(join(tmpdir(), 'lockstep-shot-'));
const port = 18000 + Math.floor(Math.random() * 1000);
const base = `http://127.0.0.1:${port}`;

const receiverServer = createServer((request, response) => {
  request.resume().on('end', () => {
    if (request.url === '/failing' && Math.random() < 0.3) return void response.writeHead(503).end('maintenance');
    setTimeout(() => response.writeHead(200).end('ok'), request.url === '/slow' ? 250 : 5);
  });
}).listen(0, '127.0.0.1');
await new Promise((resolve) => receiverServer.once('listening', resolve));
const receiverBase = `http://127.0.0.1:${receiverServer.address().port}`;

/** `lockstep all` writes the token it generated into its data dir on start. */
async function generatedToken() {
  for (let i = 0; i < 200; i++, await sleep(100)) {
    try {
      return readFileSync(join(dataDir, 'api-token'), 'utf8').trim();
    } catch {
      // not written yet
    }
  }
  throw new Error('lockstep did not start within 20 s');
}

const lockstep = spawn(process.execPath, ['dist/cli.js', 'all'], {
  env: { ...process.env, LOCKSTEP_PORT: String(port), LOCKSTEP_DATA_DIR: dataDir, LOCKSTEP_LOG_LEVEL: 'warn', LOCKSTEP_RETRY_SCHEDULE: '1,2,5' },
  stdio: 'ignore',
});
try {
  const token = await generatedToken();
  /** @param {string} method @param {string} path @param {unknown} body */
  const call = async (method, path, body) => {
    for (;;) {
      const response = await fetch(`${base}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }).catch(() => undefined);
      if (response) return response.json();
      await sleep(200);
    }
  };
  await call('POST', '/v1/receivers', { url: `${receiverBase}/fast`, description: 'billing service' });
  await call('POST', '/v1/receivers', { url: `${receiverBase}/slow`, eventTypes: ['order.*'], description: 'warehouse' });
  await call('POST', '/v1/receivers', { url: `${receiverBase}/failing`, eventTypes: ['order.shipped'], description: 'partner CRM' });
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  const page = await browser.newPage({ viewport: { width: 1200, height: 760 } });
  await page.goto(`${base}/ui/`);
  await page.fill('input[name=token]', token);
  await page.click('form.sign-in button[type=submit]');
  const types = ['order.created', 'order.shipped', 'invoice.paid'];
  for (let i = 0; i < 800; i++) {
    void call('POST', '/v1/messages', { eventType: types[i % 3], payload: { n: i } });
    await sleep(50);
  }
  await page.screenshot({ path: 'docs/dashboard.png' });
  await browser.close();
  console.log('wrote docs/dashboard.png');
} finally {
  lockstep.kill('SIGTERM');
  receiverServer.close();
  await sleep(1500);
  rmSync(dataDir, { recursive: true, force: true });
}
