// 11 - churn: many connections joining, leaving, crashing, duplicate-joining and vanishing
// while broadcasts are in flight. Nothing is asserted about individual frames; the server
// must stay up, keep its bookkeeping (channel limits, subscriptions) right, and serve.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { useServer } from './lib/harness.mjs';
import { joinOk, push } from './lib/phx.mjs';
import { RawClient } from './lib/raw.mjs';
import { mapLimit, sleep } from './lib/util.mjs';

describe('churn', { timeout: 40_000 }, () => {
  const ctx = useServer(['--max-channels', '5']);

  test('join/leave/crash/duplicate/vanish under broadcast load', async () => {
    let publishing = true;
    const publisher = (async () => {
      let i = 0;
      while (publishing) {
        await ctx.broadcast(`room:churn${i % 4}`, 'tick', { i, pad: 'p'.repeat(i % 3 === 0 ? 5000 : 10) });
        i++;
      }
      return i;
    })();

    const worker = async (w) => {
      for (let round = 0; round < 6; round++) {
        const raw = ctx.track(await RawClient.open(ctx.server.wsUrl({ token: `churn${w % 5}`, vsn: '2.0.0' })));
        const refs = {};
        for (let t = 0; t < 4; t++) {
          const J = raw.nextRef();
          refs[t] = J;
          raw.send([J, J, `room:churn${t}`, 'phx_join', {}]);
        }
        raw.send([refs[0], raw.nextRef(), 'room:churn0', 'shout', { w }]);
        raw.send([refs[1], raw.nextRef(), 'room:churn1', 'crash', {}]);
        raw.send([refs[2], raw.nextRef(), 'room:churn2', 'phx_leave', {}]);
        raw.send([refs[3], raw.nextRef(), 'room:churn3', 'leave_me', {}]);
        const J = raw.nextRef();
        raw.send([J, J, 'room:churn0', 'phx_join', {}]); // duplicate
        raw.send([null, raw.nextRef(), 'room:churn0', 'shout_others', { w }]);
        await sleep(5 + (w % 7) * 3);
        if (round % 2) raw.terminate();
        else raw.close(1000);
      }
    };
    await mapLimit(Array.from({ length: 24 }, (_, i) => i), 24, worker);
    publishing = false;
    const published = await publisher;
    assert.ok(published > 0);
    await sleep(300);
    assert.ok(ctx.server.alive(), ctx.server.describe());

    // Bookkeeping still right: a fresh socket gets its full channel budget and each
    // broadcast once per subscribed topic.
    const raw = await ctx.raw({ token: 'after', vsn: '2.0.0' });
    for (let t = 0; t < 5; t++) await raw.joinOk(`room:churn${t}`);
    const J = raw.nextRef();
    raw.send([J, J, 'room:churn9', 'phx_join', {}]);
    assert.equal((await raw.expectReply('room:churn9', J))[4].response.reason, 'too many channels joined');
    await raw.collectFor(200);
    for (let t = 0; t < 5; t++) await ctx.broadcast(`room:churn${t}`, 'final', { t });
    const finals = (await raw.collectFor(300)).filter((f) => f[3] === 'final');
    assert.deepEqual(finals.map((f) => f[4].t).sort(), [0, 1, 2, 3, 4]);

    const socket = await ctx.phx();
    const channel = socket.channel('room:churn0');
    await joinOk(channel);
    assert.deepEqual(await push(channel, 'ping', { ok: 1 }), { status: 'ok', response: { ok: 1 } });
  });

  test('200 phoenix.js sockets connect and vanish without a close handshake', async () => {
    const clients = await mapLimit(Array.from({ length: 200 }, (_, i) => i), 50, async (i) => {
      const raw = ctx.track(await RawClient.open(ctx.server.wsUrl({ token: `v${i}`, vsn: '2.0.0' })));
      raw.send(['1', '1', 'telemetry:vanish', 'phx_join', {}]);
      return raw;
    });
    await sleep(100);
    const pending = ctx.broadcast('telemetry:vanish', 'e', { pad: 'v'.repeat(50_000) });
    for (const c of clients) c.ws._socket.destroy();
    assert.equal((await pending).status, 202);
    await sleep(300);
    assert.ok(ctx.server.alive(), ctx.server.describe());
    const socket = await ctx.phx();
    await joinOk(socket.channel('telemetry:vanish'));
  });
});
