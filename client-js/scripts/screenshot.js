#!/usr/bin/env node
// Regenerates docs/dashboard.png (the README's screenshot): cinder serving the dashboard, 300 simulated
// vehicles at 2 Hz for ~25 s (long enough for trails), two viewers, headless Chromium at 1280x720.
//   npm run screenshot            (CINDER_BIN, CHROMIUM_BIN as for the tests)

import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

import { Cinder, REPO_ROOT, sleep, waitUntil } from '../test/lib/cinder.js';

const CLIENT_JS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = process.argv[2] || path.join(REPO_ROOT, 'docs', 'dashboard.png');
const server = await new Cinder({ args: ['--static-dir', path.join(CLIENT_JS, 'dashboard')] }).start();
const fleet = spawn(
  process.execPath,
  [path.join(CLIENT_JS, 'bin', 'cinder-fleet.js'), '--url', server.httpUrl, '--vehicles', '300', '--hz', '2', '--duration', '40s', '--quiet'],
  { stdio: 'inherit' },
);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_BIN || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  timeout: 30_000,
});
try {
  const open = async (name) => {
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 720 } })).newPage();
    await page.goto(`${server.httpUrl}/?name=${name}`);
    return page;
  };
  const page = await open('dispatch');
  await open('night-shift');
  await waitUntil(() => page.evaluate(() => window.cinderDashboard.vehicles.size === 300), 15_000, '300 vehicles');
  await sleep(25_000);
  mkdirSync(path.dirname(out), { recursive: true });
  await page.screenshot({ path: out });
  process.stdout.write(`screenshot: ${out}\n`);
} finally {
  await browser.close();
  const exited = new Promise((resolve) => fleet.once('exit', resolve));
  fleet.kill('SIGINT');
  await Promise.race([exited, sleep(5000)]);
  await server.stop();
}
