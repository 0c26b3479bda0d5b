// The fleet model (plausible, self-consistent movement) and the cinder-fleet CLI against cinder.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { createSocket, joinChannel } from '../src/index.js';
import { Fleet, bearingDeg, distanceM } from '../src/fleet.js';
import { Cinder, waitUntil, withTimeout } from './lib/cinder.js';

const BIN = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'cinder-fleet.js');

describe('Fleet model', () => {
  test('the same seed drives the same fleet', () => {
    const a = new Fleet({ vehicles: 10, seed: 3 });
    const b = new Fleet({ vehicles: 10, seed: 3 });
    for (let i = 0; i < 100; i++) {
      a.step(0.5);
      b.step(0.5);
    }
    assert.deepEqual(
      a.vehicles.map((v) => a.point(v, 0)),
      b.vehicles.map((v) => b.point(v, 0)),
    );
  });

  test('points move as their speed and heading say, at city speeds, around the center', () => {
    const dt = 0.5;
    const fleet = new Fleet({ vehicles: 40, seed: 11, radiusM: 2000 });
    let prev = fleet.vehicles.map((v) => fleet.point(v, 0));
    let moving = 0;
    let straight = 0;
    for (let t = 1; t <= 600; t++) {
      fleet.step(dt);
      const cur = fleet.vehicles.map((v) => fleet.point(v, t * 500));
      cur.forEach((p, i) => {
        const q = prev[i];
        assert.deepEqual(Object.keys(p), ['id', 'lat', 'lon', 'speed', 'heading', 'ts']);
        assert.ok(p.speed >= 0 && p.speed <= 16.01, `speed ${p.speed}`);
        assert.ok([0, 90, 180, 270].includes(p.heading));
        const d = distanceM(q, p);
        // At most the faster of the two speeds for dt, plus rounding (1e-6 degrees is ~0.1 m).
        assert.ok(d <= Math.max(p.speed, q.speed) * dt + 0.3, `${p.id} moved ${d} m at ${q.speed}..${p.speed} m/s`);
        assert.ok(Math.abs(p.speed - q.speed) <= 2.5 * dt + 0.02 || p.speed === 0, `${p.id} speed jump ${q.speed} -> ${p.speed}`);
        if (d > 1) moving += 1;
        if (d > 1 && p.heading === q.heading) {
          // Kept its heading: the displacement points that way (within a few degrees of rounding).
          const off = Math.abs(((bearingDeg(q, p) - p.heading + 540) % 360) - 180);
          if (off < 3) straight += 1;
          else assert.ok(d < 50, `${p.id} heading ${p.heading} but moved toward ${bearingDeg(q, p)}`);
        }
        assert.ok(distanceM(fleet.center, p) <= 2000 + 300, `${p.id} too far out`);
      });
      prev = cur;
    }
    assert.ok(moving > 0.7 * 40 * 600, `most points move (${moving})`);
    assert.ok(straight > 0.5 * moving, `most moves go along the heading (${straight}/${moving})`);
  });
});

/** Runs cinder-fleet; resolves {code, signal, stderr}. Bounded by `ms`. */
function runFleet(args, { ms = 10_000, onStart } = {}) {
  const proc = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let stdout = '';
  proc.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
  proc.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
  const done = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal, stderr, stdout })));
  onStart?.(proc);
  return withTimeout(done, ms, `cinder-fleet ${args.join(' ')}`).catch((err) => {
    proc.kill('SIGKILL');
    throw err;
  });
}

describe('cinder-fleet', { timeout: 30_000 }, () => {
  const server = new Cinder();
  let socket;
  let channel;
  const points = [];
  before(async () => {
    await server.start();
    socket = createSocket(server.httpUrl, { token: 'watcher', timeout: 2000 });
    channel = socket.channel('telemetry:fleet');
    channel.on('position', (p) => points.push(p));
    await joinChannel(channel);
  });
  after(async () => {
    socket.disconnect();
    await server.stop();
  });

  test('publishes position events for every vehicle and ends after --duration', async () => {
    points.length = 0;
    const started = Date.now();
    const r = await runFleet(['--url', server.httpUrl, '--vehicles', '20', '--hz', '4', '--duration', '1500ms']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(Date.now() - started < 6000);
    assert.match(r.stderr, /done: 20 vehicles, .* sent, 0 failed/);
    await waitUntil(() => points.length >= 20 * 4, 2000, 'points');
    const ids = new Set(points.map((p) => p.id));
    assert.equal(ids.size, 20);
    for (const p of points) {
      assert.deepEqual(Object.keys(p).sort(), ['heading', 'id', 'lat', 'lon', 'speed', 'ts']);
      assert.ok(Math.abs(p.lat - 48.8566) < 0.05 && Math.abs(p.lon - 2.3522) < 0.08, JSON.stringify(p));
      assert.ok(Math.abs(p.ts - Date.now()) < 10_000);
    }
  });

  test('stops cleanly on SIGINT', async () => {
    points.length = 0;
    const r = await runFleet(['--url', server.httpUrl, '--vehicles', '10', '--hz', '5', '--center', '40.4168,-3.7038'], {
      onStart: (proc) =>
        waitUntil(() => points.length >= 10, 5000, 'first points').then(
          () => proc.kill('SIGINT'),
          () => proc.kill('SIGINT'),
        ),
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /stopped \(SIGINT\)/);
    assert.ok(points.every((p) => Math.abs(p.lat - 40.4168) < 0.05), 'the --center is used');
  });

  test('bad arguments exit 2 with a message; --help exits 0', async () => {
    const bad = await runFleet(['--vehicles', 'lots']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /invalid --vehicles lots/);
    const unknown = await runFleet(['--frobnicate']);
    assert.equal(unknown.code, 2);
    const help = await runFleet(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /usage: cinder-fleet/);
  });

  test('a server that is not there: failures reported, exit 1', async () => {
    const r = await runFleet(['--url', 'http://127.0.0.1:9', '--vehicles', '2', '--duration', '300ms', '--quiet']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /ECONNREFUSED/);
  });
});
