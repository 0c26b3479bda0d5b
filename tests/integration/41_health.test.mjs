// 41 - GET /health and GET /ready: liveness answers while the loop runs; readiness turns 503 when
// the node is full, when its Redis goes away (and back to 200 when Redis returns), and while it drains
// after SIGTERM (both still answered: they are plain requests, not upgrades).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { useServer } from './lib/harness.mjs';
import { request } from './lib/http.mjs';
import { scrape, value } from './lib/prom.mjs';
import { RawClient } from './lib/raw.mjs';
import { RedisServer } from './lib/redis.mjs';
import { CinderServer } from './lib/server.mjs';
import { mapLimit, waitUntil, withTimeout } from './lib/util.mjs';

const get = (port, path) => request(port, { method: 'GET', path, timeout: 3000 });

/** Polls GET /ready until its status is `status`; resolves the last answer. */
function readyBecomes(port, status, ms, label) {
  return waitUntil(async () => {
    const res = await get(port, '/ready');
    return res.status === status ? res : null;
  }, ms, label, 50);
}

describe('health: single node', { timeout: 30_000 }, () => {
  const ctx = useServer(['--static-dir', '', '--max-connections', '2']);

  test('GET /health answers 200 {"status":"ok"}', async () => {
    const res = await get(ctx.port, '/health');
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { status: 'ok' });
    assert.match(res.headers['content-type'], /^application\/json/);
    assert.equal(res.headers['cache-control'], 'no-store');
  });

  test('GET /ready is 200 with every check, Redis not configured', async () => {
    const res = await get(ctx.port, '/ready');
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, {
      status: 'ready',
      checks: { draining: 'ok', connections: 'ok', redis: 'not configured' },
    });
  });

  test('a node at max_connections is not ready, and is again when one leaves', async () => {
    const a = await ctx.raw({ token: 'h-a', vsn: '2.0.0' });
    await ctx.raw({ token: 'h-b', vsn: '2.0.0' });
    const full = await get(ctx.port, '/ready');
    assert.equal(full.status, 503);
    assert.equal(full.json.status, 'unavailable');
    assert.deepEqual(full.json.failing, ['connections']);
    assert.equal(full.json.checks.connections, '2 open, max_connections 2');
    assert.equal((await get(ctx.port, '/health')).status, 200, 'still alive');
    a.terminate();
    await readyBecomes(ctx.port, 200, 3000, '/ready 200 after a connection left');
  });

  test('methods other than GET on /ready, /health, /metrics are 405', async () => {
    for (const path of ['/ready', '/health', '/metrics']) {
      assert.equal((await request(ctx.port, { method: 'POST', path, body: '{}' })).status, 405, `POST ${path}`);
      assert.equal((await request(ctx.port, { method: 'PUT', path, body: '{}' })).status, 405, `PUT ${path}`);
    }
  });
});

describe('health: Redis', { timeout: 60_000 }, () => {
  const redis = new RedisServer();
  let node;

  before(async () => {
    await redis.start();
    node = new CinderServer(['--static-dir', '', '--redis', redis.url, '--cluster-heartbeat', '200ms', '--cluster-expiry', '1s']);
    await node.start();
  });

  after(async () => {
    if (node) await node.stop();
    await redis.stop();
  });

  test('ready once the self-probe comes back; 503 when Redis dies; 200 again when it returns', async () => {
    const up = await readyBecomes(node.port, 200, 5000, '/ready 200 with Redis up');
    assert.equal(up.json.checks.redis, 'ok');
    let m = await scrape(node.port);
    assert.equal(value(m, 'cinder_redis_bridge_state', { state: 'up' }), 1);
    assert.ok(value(m, 'cinder_cluster_probe_age_seconds') < 1);

    await redis.kill();
    const down = await readyBecomes(node.port, 503, 3000, '/ready 503 with Redis killed');
    assert.deepEqual(down.json.failing, ['redis']);
    assert.match(down.json.checks.redis, /^(bridge down|bridge connecting|self-probe \d+ ms old)/);
    assert.equal((await get(node.port, '/health')).status, 200, 'alive without Redis');
    m = await scrape(node.port);
    assert.equal(value(m, 'cinder_redis_bridge_state', { state: 'up' }), 0);

    await redis.start(); // same port
    // the bridge retries with backoff capped at 5 s (jittered up to 7.5 s), then the probe returns
    const back = await readyBecomes(node.port, 200, 15_000, '/ready 200 after Redis restarted');
    assert.equal(back.json.checks.redis, 'ok');
    m = await scrape(node.port);
    assert.ok(value(m, 'cinder_redis_reconnects_total') >= 1);
    assert.equal(value(m, 'cinder_redis_bridge_state', { state: 'up' }), 1);
  });
});

describe('health: draining', { timeout: 60_000 }, () => {
  const CLIENTS = 40;
  let node;

  before(async () => {
    node = new CinderServer(['--static-dir', '', '--drain-timeout', '3s']);
    await node.start();
  });

  after(async () => {
    if (node) await node.stop();
  });

  test('after SIGTERM /ready is 503 "draining" while sockets close, /health stays 200, exit 0', async () => {
    assert.equal((await get(node.port, '/ready')).status, 200);
    // Enough sockets that the batches (one drain tick per 100 ms) take a couple of seconds.
    const clients = await mapLimit(Array.from({ length: CLIENTS }, (_, i) => i), 10, (i) =>
      RawClient.open(node.wsUrl({ token: `drain-${i}`, vsn: '2.0.0' })),
    );
    try {
      node.stopping = true; // our SIGTERM: its exit is expected
      node.proc.kill('SIGTERM');
      const ready = await readyBecomes(node.port, 503, 2000, '/ready 503 while draining');
      assert.deepEqual(ready.json.failing, ['draining']);
      assert.equal(ready.json.checks.draining, 'draining');
      const health = await get(node.port, '/health');
      assert.equal(health.status, 200);
      const m = await scrape(node.port);
      assert.equal(value(m, 'cinder_draining'), 1);
      assert.ok(clients.some((c) => c.closeInfo === null), 'the drain was still in progress');
      // new upgrades are refused meanwhile
      await assert.rejects(RawClient.open(node.wsUrl({ token: 'late', vsn: '2.0.0' })), (err) => err.statusCode === 503);

      const codes = await Promise.all(clients.map((c) => withTimeout(c.closed, 10_000, 'a drained socket')));
      assert.ok(codes.every((c) => c.code === 1012), `close codes ${[...new Set(codes.map((c) => c.code))]}`);
      const exit = await withTimeout(node.exited, 10_000, 'cinder to exit after the drain');
      assert.deepEqual(exit, { code: 0, signal: null });
    } finally {
      for (const c of clients) c.terminate();
    }
  });
});
