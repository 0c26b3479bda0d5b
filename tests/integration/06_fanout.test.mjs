// 06 - fan-out: 200 phoenix.js clients on one topic, one API broadcast, each client
// receives it exactly once.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { useServer } from './lib/harness.mjs';
import { collect, connect, joinOk } from './lib/phx.mjs';
import { mapLimit, sleep, waitUntil } from './lib/util.mjs';

const CLIENTS = 200;

describe('fan-out', { timeout: 45_000 }, () => {
  const ctx = useServer();

  test(`${CLIENTS} phoenix.js clients each receive one broadcast exactly once`, async () => {
    const T = 'telemetry:fanout';
    const sockets = Array.from({ length: CLIENTS }, (_, i) => ctx.socket({ token: `user${i}`, timeout: 10_000 }));
    await mapLimit(sockets, 50, (s) => connect(s, 10_000));
    const channels = sockets.map((s) => s.channel(T));
    await mapLimit(channels, 50, (c) => joinOk(c, 10_000));
    const got = channels.map((c) => collect(c, 'fan'));

    const payload = { msg: 'to everyone', at: 12345 };
    const res = await ctx.broadcast(T, 'fan', payload);
    assert.equal(res.status, 202, res.text);

    await waitUntil(() => got.every((g) => g.length >= 1), 10_000, `the broadcast at all ${CLIENTS} clients`).catch((err) => {
      const missing = got.filter((g) => g.length === 0).length;
      throw new Error(`${err.message}: ${missing} clients still missing it`);
    });
    await sleep(300);
    const counts = got.map((g) => g.length);
    assert.deepEqual(counts.filter((n) => n !== 1), [], 'every client gets it exactly once');
    for (const g of got) assert.deepEqual(g[0], payload);

    // A second broadcast also arrives exactly once at everyone.
    assert.equal((await ctx.broadcast(T, 'fan', { round: 2 })).status, 202);
    await waitUntil(() => got.every((g) => g.length >= 2), 10_000, 'the second broadcast everywhere');
    await sleep(200);
    assert.deepEqual(got.map((g) => g.length).filter((n) => n !== 2), []);
  });

  test('fan-out on a room: one shout reaches 50 subscribers and the sender once each', async () => {
    const T = 'room:fan';
    const sockets = await mapLimit(Array.from({ length: 50 }, (_, i) => i), 25, (i) => ctx.phx({ token: `r${i}` }));
    const channels = sockets.map((s) => s.channel(T));
    await mapLimit(channels, 25, (c) => joinOk(c));
    const got = channels.map((c) => collect(c, 'shout'));
    const reply = await new Promise((resolve) => channels[0].push('shout', { from: 0 }).receive('ok', resolve));
    assert.deepEqual(reply, {});
    await waitUntil(() => got.every((g) => g.length >= 1), 10_000, 'shout at all 50');
    await sleep(200);
    assert.deepEqual(got.map((g) => g.length).filter((n) => n !== 1), []);
  });
});
