#!/usr/bin/env node
// cinder-fleet: simulates a fleet of vehicles and publishes their GPS points to a Cinder server through
// the HTTP API (Publisher): event "position", payload {id, lat, lon, speed, heading, ts}, topic
// telemetry:fleet. Each vehicle publishes `--hz` times a second, the vehicles spread evenly over the
// period. Ends after --duration, or on SIGINT / SIGTERM (a second one exits at once).

import { parseArgs } from 'node:util';

import { Fleet } from '../src/fleet.js';
import { Publisher } from '../src/publisher.js';

const USAGE = `usage: cinder-fleet [options]

Publishes simulated GPS points of a vehicle fleet to a Cinder server (POST /api/broadcast):
event "position", payload {"id","lat","lon","speed","heading","ts"} (speed m/s, heading degrees
clockwise from north, ts ms since the epoch).

  --url URL           server base URL (default http://127.0.0.1:4000)
  --vehicles N        number of vehicles (default 100)
  --hz R              points per vehicle per second (default 1)
  --duration D        stop after D: 90, 90s, 500ms, 2m (default: run until SIGINT)
  --topic T           topic (default telemetry:fleet)
  --center LAT,LON    city center (default 48.8566,2.3522)
  --radius KM         streets within this radius of the center (default 3)
  --seed N            random seed: the same seed drives the same fleet (default 1)
  --concurrency N     requests in flight at most (default 16)
  --quiet             no progress lines (errors and the summary still go to stderr)
  -h, --help          this text
`;

/** "90", "90s", "500ms", "2m" -> milliseconds, or NaN. */
function parseDuration(text) {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(String(text).trim());
  if (!m) return NaN;
  const n = Number(m[1]);
  return m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : n * 1000;
}

function fail(message) {
  process.stderr.write(`cinder-fleet: ${message}\n`);
  process.exit(2);
}

function parse(argv) {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        url: { type: 'string', default: 'http://127.0.0.1:4000' },
        vehicles: { type: 'string', default: '100' },
        hz: { type: 'string', default: '1' },
        duration: { type: 'string' },
        topic: { type: 'string', default: 'telemetry:fleet' },
        center: { type: 'string', default: '48.8566,2.3522' },
        radius: { type: 'string', default: '3' },
        seed: { type: 'string', default: '1' },
        concurrency: { type: 'string', default: '16' },
        quiet: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }));
  } catch (err) {
    fail(`${err.message} (see --help)`);
  }
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const vehicles = Number(values.vehicles);
  const hz = Number(values.hz);
  const radius = Number(values.radius);
  const seed = Number(values.seed);
  const concurrency = Number(values.concurrency);
  const [lat, lon] = values.center.split(',').map(Number);
  const durationMs = values.duration === undefined ? null : parseDuration(values.duration);
  if (!Number.isInteger(vehicles) || vehicles < 1 || vehicles > 100_000) fail(`invalid --vehicles ${values.vehicles}`);
  if (!(hz > 0 && hz <= 50)) fail(`invalid --hz ${values.hz} (0 < hz <= 50)`);
  if (!(radius > 0 && radius <= 100)) fail(`invalid --radius ${values.radius}`);
  if (!Number.isInteger(seed)) fail(`invalid --seed ${values.seed}`);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 1024) fail(`invalid --concurrency ${values.concurrency}`);
  if (!(Math.abs(lat) <= 85 && Math.abs(lon) <= 180)) fail(`invalid --center ${values.center}`);
  if (durationMs !== null && !(durationMs > 0)) fail(`invalid --duration ${values.duration}`);
  try {
    new URL(values.url);
  } catch {
    fail(`invalid --url ${values.url}`);
  }
  return { ...values, vehicles, hz, radius, seed, concurrency, center: { lat, lon }, durationMs };
}

async function main() {
  const opt = parse(process.argv.slice(2));
  const fleet = new Fleet({ vehicles: opt.vehicles, center: opt.center, radiusM: opt.radius * 1000, seed: opt.seed });
  const publisher = new Publisher(opt.url, { retries: 2, backoffMs: 100, maxBackoffMs: 1000, timeout: 3000, maxSockets: opt.concurrency });
  const period = 1000 / opt.hz;
  const started = Date.now();
  const stats = { sent: 0, failed: 0, superseded: 0 };
  // Points waiting for a sender, at most one per vehicle: a newer point replaces an unsent one.
  /** @type {Map<string, object>} */
  const pending = new Map();
  let inFlight = 0;
  let stopping = false;
  let lastError = '';
  let lastErrorAt = 0;

  fleet.vehicles.forEach((v, i) => {
    v.due = started + (i / fleet.vehicles.length) * period;
    v.last = started;
  });

  const pump = () => {
    while (!stopping && inFlight < opt.concurrency && pending.size > 0) {
      const [id, point] = pending.entries().next().value;
      pending.delete(id);
      inFlight += 1;
      publisher
        .publish(opt.topic, 'position', point)
        .then(() => {
          stats.sent += 1;
        })
        .catch((err) => {
          stats.failed += 1;
          const now = Date.now();
          if (err.message !== lastError || now - lastErrorAt > 5000) {
            process.stderr.write(`cinder-fleet: ${err.message}\n`);
            lastError = err.message;
            lastErrorAt = now;
          }
        })
        .finally(() => {
          inFlight -= 1;
          pump();
        });
    }
  };

  // Every 20 ms (or the period, if shorter): move and queue the vehicles whose turn it is.
  const tick = () => {
    const now = Date.now();
    for (const v of fleet.vehicles) {
      if (v.due > now) continue;
      fleet.advance(v, (now - v.last) / 1000);
      v.last = now;
      v.due = now - v.due > period ? now + period : v.due + period;
      if (pending.has(v.id)) stats.superseded += 1;
      pending.set(v.id, fleet.point(v, now));
    }
    pump();
  };
  const ticker = setInterval(tick, Math.min(20, period));

  let lastReport = { at: started, sent: 0 };
  const reporter = setInterval(() => {
    if (opt.quiet) return;
    const now = Date.now();
    const rate = ((stats.sent - lastReport.sent) * 1000) / (now - lastReport.at);
    lastReport = { at: now, sent: stats.sent };
    process.stderr.write(
      `cinder-fleet: ${stats.sent} sent (${rate.toFixed(0)}/s), ${stats.failed} failed, ${stats.superseded} superseded, ${inFlight} in flight\n`,
    );
  }, 5000);

  let finish;
  const finished = new Promise((resolve) => (finish = resolve));
  let ending = false;
  const stop = async (why, drainPending) => {
    if (ending) return;
    ending = true;
    clearInterval(ticker);
    clearInterval(reporter);
    // Let the queued points go out (end of --duration) or only those already sent (a signal),
    // within 3 s either way.
    const deadline = Date.now() + 3000;
    if (!drainPending) pending.clear();
    while ((pending.size > 0 || inFlight > 0) && Date.now() < deadline) {
      pump();
      await new Promise((r) => setTimeout(r, 20));
    }
    stopping = true;
    publisher.close();
    const secs = (Date.now() - started) / 1000;
    process.stderr.write(
      `cinder-fleet: ${why}: ${opt.vehicles} vehicles, ${secs.toFixed(1)} s, ${stats.sent} sent, ${stats.failed} failed, ${stats.superseded} superseded\n`,
    );
    finish(stats.sent === 0 && stats.failed > 0 ? 1 : 0);
  };

  let signals = 0;
  const onSignal = (sig) => {
    signals += 1;
    if (signals > 1) process.exit(130);
    stop(`stopped (${sig})`, false);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  if (opt.durationMs !== null) setTimeout(() => stop('done', true), opt.durationMs);

  if (!opt.quiet) {
    process.stderr.write(
      `cinder-fleet: ${opt.vehicles} vehicles at ${opt.hz} Hz -> ${publisher.url} (${opt.topic}, event position)` +
        `${opt.durationMs !== null ? ` for ${opt.durationMs / 1000} s` : ', Ctrl-C to stop'}\n`,
    );
  }
  tick();
  process.exitCode = await finished;
}

main();
