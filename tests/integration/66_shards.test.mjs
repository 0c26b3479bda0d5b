// 66 - shards (issue 5): one process, two event-loop threads. WebSockets are placed on the shards in
// turn; every subscriber on every shard gets every broadcast exactly once and in order, whichever
// shard it was published on (HTTP API, a shout on either shard, a broadcast_from); presence and
// intercepts are right across shards; the node-wide admission limits hold across them.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { Presence } from 'phoenix';

import { useServer } from './lib/harness.mjs';
import { collect, joinOk, push } from './lib/phx.mjs';
import { scrape, value } from './lib/prom.mjs';
import { waitUntil } from './lib/util.mjs';

const SUBS = 20;

/** SUBS joined sockets on topic, with their received events of kind `event`. */
async function subscribers(ctx, topic, event) {
  const subs = [];
  for (let i = 0; i < SUBS; i++) {
    const socket = await ctx.phx({ token: `user${i}` });
    const channel = socket.channel(topic);
    const got = collect(channel, event);
    await joinOk(channel);
    subs.push({ socket, channel, got });
  }
  return subs;
}

describe('shards', { timeout: 60_000 }, () => {
  const ctx = useServer(['--shards', '2', '--max-connections-per-user', '2']);

  test('WebSockets are spread over both shards', async () => {
    await subscribers(ctx, 'room:spread', 'shout');
    const m = await scrape(ctx.port);
    assert.equal(value(m, 'cinder_shards'), 2);
    const a = value(m, 'cinder_shard_connections', { shard: '0' });
    const b = value(m, 'cinder_shard_connections', { shard: '1' });
    assert.equal(a + b, SUBS);
    assert.ok(a >= SUBS / 2 - 1 && b >= SUBS / 2 - 1, `shard 0: ${a}, shard 1: ${b}`);
    assert.equal(value(m, 'cinder_connections', { transport: 'websocket' }), SUBS);
  });

  test('HTTP broadcasts reach every subscriber on both shards exactly once, in order', async () => {
    const subs = await subscribers(ctx, 'room:api', 'tick');
    for (let n = 0; n < 50; n++) {
      const res = await ctx.broadcast('room:api', 'tick', { n });
      assert.equal(res.status, 202);
    }
    const want = [...Array(50).keys()];
    await waitUntil(() => subs.every((s) => s.got.length >= 50), 5000, 'every subscriber got 50');
    await new Promise((r) => setTimeout(r, 200)); // nothing more may come
    for (const s of subs) assert.deepEqual(s.got.map((p) => p.n), want);
  });

  test('shouts from sockets on either shard reach everyone once; shout_others skips only the sender', async () => {
    const subs = await subscribers(ctx, 'room:shout', 'shout');
    const [p0, p1] = [subs[0], subs[1]]; // placed in turn: one on each shard
    for (let n = 0; n < 20; n++) {
      await push(p0.channel, 'shout', { from: 0, n });
      await push(p1.channel, 'shout', { from: 1, n });
    }
    await push(p1.channel, 'shout_others', { from: 1, n: 'others' });
    await waitUntil(() => subs.every((s, i) => s.got.length >= (i === 1 ? 40 : 41)), 5000, 'all shouts in');
    await new Promise((r) => setTimeout(r, 200));
    for (const [i, s] of subs.entries()) {
      for (const from of [0, 1]) {
        const seen = s.got.filter((p) => p.from === from && p.n !== 'others').map((p) => p.n);
        assert.deepEqual(seen, [...Array(20).keys()], `subscriber ${i}, publisher ${from}`);
      }
      assert.equal(s.got.filter((p) => p.n === 'others').length, i === 1 ? 0 : 1, `subscriber ${i}: others`);
    }
  });

  test('presence across shards: both sides see the join and the leave', async () => {
    const views = [];
    for (const token of ['pa', 'pb', 'pc']) {
      const socket = await ctx.phx({ token });
      const channel = socket.channel('room:presence');
      const presence = new Presence(channel);
      await joinOk(channel);
      views.push({ socket, channel, users: () => presence.list((key) => key).sort() });
    }
    for (const v of views)
      await waitUntil(() => v.users().join() === 'pa,pb,pc', 3000, `everyone seen (${v.users()})`);
    views[1].channel.leave();
    await waitUntil(() => views[0].users().join() === 'pa,pc', 3000, 'pb left for pa');
    await waitUntil(() => views[2].users().join() === 'pa,pc', 3000, 'pb left for pc');
  });

  test('intercepted events are handled on the receiving shard', async () => {
    const subs = await subscribers(ctx, 'room:tagged', 'tagged');
    await push(subs[0].channel, 'shout_tagged', { x: 1, skip: 'user3' });
    await waitUntil(() => subs.filter((s) => s.got.length).length === SUBS - 1, 3000, 'tagged in');
    for (const [i, s] of subs.entries()) {
      if (i === 3) assert.equal(s.got.length, 0);
      else assert.deepEqual([...s.got], [{ x: 1, skip: 'user3', to: `user${i}` }]);
    }
  });

  test('max_connections_per_user counts a user on both shards', async () => {
    await ctx.phx({ token: 'twice' });
    await ctx.phx({ token: 'twice' }); // the other shard
    const res = await ctx.raw({ token: 'twice', vsn: '2.0.0' }).then(
      () => 'open',
      (e) => String(e.message || e),
    );
    assert.match(res, /429/);
  });
});
