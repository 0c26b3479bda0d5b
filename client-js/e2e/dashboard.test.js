// End to end: the dashboard served by cinder (--static-dir), in headless Chromium (Debian's chromium,
// driven by playwright-core: no browser download), fed by the cinder-fleet simulator.
//
//   the page connects (live) -> vehicles appear and move -> a second page shows up in both presence
//   lists -> cinder killed: "reconnecting" -> cinder restarted on the same port: live data again
//
// A screenshot goes to tests/artifacts/dashboard.png (and to docs/dashboard.png with
// CINDER_DOCS_SCREENSHOT=1). Every wait is bounded; the file's budget is 110 s.

import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

import { Cinder, REPO_ROOT, waitUntil } from '../test/lib/cinder.js';

const CLIENT_JS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DASHBOARD = path.join(CLIENT_JS, 'dashboard');
const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
const ARTIFACTS = path.join(REPO_ROOT, 'tests', 'artifacts');

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage', // containers often have a 64 MB /dev/shm
];

describe('dashboard in Chromium', { timeout: 110_000 }, () => {
  const server = new Cinder({ args: ['--static-dir', DASHBOARD] });
  let browser;
  let fleet;
  const pages = {};
  const problems = []; // page errors and console errors, reported at the end

  async function openPage(name) {
    // A context per page: separate storage, like two people on two machines.
    const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    page.on('pageerror', (err) => problems.push(`${name}: ${err.message}`));
    page.on('console', (msg) => {
      // The browser logs each failed WebSocket attempt while cinder is down: expected then.
      if (msg.type() === 'error' && !/WebSocket connection|ERR_CONNECTION_REFUSED/.test(msg.text())) {
        problems.push(`${name}: console: ${msg.text()}`);
      }
    });
    await page.goto(`${server.httpUrl}/?name=${name}`, { waitUntil: 'load' });
    pages[name] = page;
    return page;
  }

  const state = (page) =>
    page.evaluate(() => {
      const d = window.cinderDashboard;
      return {
        status: d.status,
        viewers: d.viewers,
        received: d.received,
        count: Number(document.getElementById('vehicle-count').textContent),
        positions: Object.fromEntries([...d.vehicles].map(([id, v]) => [id, [v.x, v.y]])),
      };
    });

  async function waitState(page, predicate, ms, label) {
    let last;
    try {
      return await waitUntil(
        async () => {
          last = await state(page);
          return predicate(last) && last;
        },
        ms,
        label,
        100,
      );
    } catch (err) {
      err.message += `; last state: ${JSON.stringify({ ...last, positions: Object.keys(last?.positions ?? {}).length })}`;
      throw err;
    }
  }

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium (or set CHROMIUM_BIN)`);
    execFileSync(process.execPath, [path.join(CLIENT_JS, 'scripts', 'build-dashboard.js')], { stdio: 'ignore' });
    await server.start();
    // playwright's launch() gives the browser a fresh temporary profile (--user-data-dir) and removes it.
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30_000 });
  });

  after(async () => {
    if (fleet && fleet.exitCode === null) fleet.kill('SIGKILL');
    await browser?.close().catch(() => {});
    await server.stop();
  });

  test('the page is served by cinder and connects', async () => {
    const page = await openPage('e2e-alpha');
    assert.equal(await page.title(), 'Cinder fleet');
    await waitState(page, (s) => s.status === 'live', 10_000, 'status live');
    assert.equal(await page.locator('#me').textContent(), 'e2e-alpha');
  });

  test('vehicles appear and move while the simulator publishes', async () => {
    fleet = spawn(process.execPath, [path.join(CLIENT_JS, 'bin', 'cinder-fleet.js'), '--url', server.httpUrl, '--vehicles', '40', '--hz', '4', '--quiet'], {
      stdio: 'ignore',
    });
    const page = pages['e2e-alpha'];
    const first = await waitState(page, (s) => s.count === 40, 10_000, '40 vehicles on the page');
    const later = await waitState(
      page,
      (s) => {
        const moved = Object.keys(first.positions).filter((id) => {
          const [x0, y0] = first.positions[id];
          const [x1, y1] = s.positions[id] ?? [x0, y0];
          return Math.hypot(x1 - x0, y1 - y0) > 2;
        });
        return moved.length >= 20;
      },
      8_000,
      'half the vehicles to move',
    );
    assert.ok(later.received > first.received);
    const rate = Number(await page.locator('#rate').textContent());
    assert.ok(rate > 40, `messages/s shows ${rate}`);
    assert.equal(await page.locator('#empty').isVisible(), false);
  });

  test('the presence list shows both open pages', async () => {
    const bravo = await openPage('e2e-bravo');
    const alpha = pages['e2e-alpha'];
    await waitState(bravo, (s) => s.status === 'live', 10_000, 'second page live');
    for (const page of [alpha, bravo]) {
      await waitState(page, (s) => s.viewers.join() === 'e2e-alpha,e2e-bravo', 5_000, 'both viewers listed');
      assert.deepEqual(await page.locator('#viewers li').allTextContents(), ['e2e-alpha', 'e2e-bravo']);
    }
    assert.equal(await alpha.locator('#viewers li.me').textContent(), 'e2e-alpha');
    assert.equal(await alpha.locator('#viewer-count').textContent(), '2');
    mkdirSync(ARTIFACTS, { recursive: true });
    await alpha.screenshot({ path: path.join(ARTIFACTS, 'dashboard.png') });
    if (process.env.CINDER_DOCS_SCREENSHOT === '1') {
      mkdirSync(path.join(REPO_ROOT, 'docs'), { recursive: true });
      await alpha.screenshot({ path: path.join(REPO_ROOT, 'docs', 'dashboard.png') });
    }
  });

  test('server killed: the page shows it reconnecting; restarted: live data again', async () => {
    const alpha = pages['e2e-alpha'];
    await server.stop('SIGKILL');
    await waitState(alpha, (s) => s.status === 'reconnecting', 5_000, 'status reconnecting');
    assert.match(await alpha.locator('#status').textContent(), /reconnecting… \(attempt \d+\)/);
    await alpha.screenshot({ path: path.join(ARTIFACTS, 'dashboard-reconnecting.png') });

    await server.start(); // same port
    const back = await waitState(alpha, (s) => s.status === 'live', 15_000, 'live again after the restart');
    // The simulator kept going (its publishes failed meanwhile): new points arrive again.
    await waitState(alpha, (s) => s.received > back.received + 40, 8_000, 'positions after the restart');
    for (const page of [alpha, pages['e2e-bravo']]) {
      await waitState(page, (s) => s.viewers.join() === 'e2e-alpha,e2e-bravo', 8_000, 'both viewers again');
    }
    await alpha.screenshot({ path: path.join(ARTIFACTS, 'dashboard-after-restart.png') });
  });

  test('no page errors', () => {
    assert.deepEqual(problems, []);
  });
});
