// 48 - SIGTERM drain: 2,000 phoenix.js sockets on node A behind a health-checking TCP balancer (it
// sends new connections to A while A's /ready says yes, else to B, as a load balancer does). SIGTERM
// to A: /ready turns 503, every socket is closed with 1012 within the drain timeout, phoenix.js
// reconnects and rejoins through the balancer on node B, and A exits 0.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { Socket } from 'phoenix';
import WebSocket from 'ws';

import { balancer, ready } from './lib/balancer.mjs';
import { broadcast } from './lib/http.mjs';
import { CinderServer, HOST } from './lib/server.mjs';
import { mapLimit, sleep, waitUntil, withTimeout } from './lib/util.mjs';

const N = 2000;

describe('drain on SIGTERM', { timeout: 120_000 }, () => {
  const A = new CinderServer(['--drain-timeout', '3s', '--connection-rate', '0']);
  const B = new CinderServer(['--connection-rate', '0']);
  let lb;
  const sockets = [];

  before(async () => {
    await A.start();
    await B.start();
    lb = await balancer([A.port, B.port]);
  });

  after(async () => {
    for (const s of sockets) s.disconnect();
    await sleep(200);
    await lb.close();
    if (A.alive()) await A.stop();
    await B.stop();
  });

  test(`${N} phoenix.js sockets closed with 1012 move to the second node`, async () => {
    const closes = [];
    const ticks = new Map();
    await mapLimit([...Array(N).keys()], 100, async (i) => {
      const s = new Socket(`ws://${HOST}:${lb.port}/socket`, {
        transport: WebSocket,
        params: { token: `d${i}` },
        reconnectAfterMs: (tries) => [10, 50, 100, 150, 200, 250, 500, 1000][tries - 1] ?? 2000,
        rejoinAfterMs: () => 200,
        timeout: 5000,
      });
      s.onClose((e) => closes.push({ i, code: e.code }));
      const ch = s.channel('telemetry:drain');
      ch.on('tick', (p) => ticks.set(i, p.n));
      s.connect();
      sockets.push(s);
      await withTimeout(new Promise((resolve, reject) => ch.join().receive('ok', resolve).receive('error', reject)), 10_000, `join ${i}`);
    });
    assert.equal(await ready(A.port), true);
    await broadcast(A.port, 'telemetry:drain', 'tick', { n: 1 });
    await waitUntil(() => [...ticks.values()].filter((n) => n === 1).length === N, 10_000, 'every socket on A');

    const started = Date.now();
    A.proc.kill('SIGTERM');
    await waitUntil(async () => !(await ready(A.port)), 2000, '/ready on A turns 503');
    const exit = await withTimeout(A.exited, 10_000, 'A to exit after draining');
    A.stopping = true;
    assert.equal(exit.code, 0, A.describe());
    assert.ok(Date.now() - started < 3000 + 2500, 'within the drain timeout');
    // Every socket was closed with 1012. A client that reconnected to A in the instant before the
    // balancer noticed A's /ready turn 503 is drained again (another 1012) or refused (1006).
    const drained = () => new Set(closes.filter((c) => c.code === 1012).map((c) => c.i));
    await waitUntil(() => drained().size === N, 5000, 'the clients to see every 1012');
    const codes = new Set(closes.map((c) => c.code));
    assert.ok([...codes].every((c) => c === 1012 || c === 1006), `close codes: ${[...codes]}`);

    // every client reconnects and rejoins on B
    await waitUntil(async () => {
      await broadcast(B.port, 'telemetry:drain', 'tick', { n: 2 });
      await sleep(300);
      return [...ticks.values()].filter((n) => n === 2).length === N;
    }, 30_000, 'every socket rejoined on B', 500);
  });
});
