// 10 - the V1 serializer (vsn=1.0.0 or no vsn): JSON object frames; server frames have
// exactly the keys topic, event, payload, ref and never join_ref (PROTOCOL.md 5).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { useServer } from './lib/harness.mjs';
import { V1_CODEC, collect, join, joinOk, push, waitFor } from './lib/phx.mjs';
import { sleep, waitUntil } from './lib/util.mjs';

const V1_KEYS = ['event', 'payload', 'ref', 'topic'];
const keysOf = (o) => Object.keys(o).sort();
const OK_EMPTY = { status: 'ok', response: {} };

describe('V1 serializer', { timeout: 20_000 }, () => {
  const ctx = useServer();

  describe('phoenix.js with vsn 1.0.0', () => {
    test('joins, pings, heartbeats and gets errors', async () => {
      const socket = await ctx.phx({ ...V1_CODEC, heartbeatIntervalMs: 200 });
      const channel = socket.channel('room:v1');
      assert.deepEqual(await join(channel), OK_EMPTY);
      assert.deepEqual(await push(channel, 'ping', { v: 1, s: 'ü' }), { status: 'ok', response: { v: 1, s: 'ü' } });
      assert.deepEqual(await push(channel, 'fail', {}), { status: 'error', response: { reason: 'failed' } });
      await sleep(500); // a couple of heartbeats go through
      assert.equal(socket.connectionState(), 'open');
    });

    test('receives shouts from V1 and V2 clients and API broadcasts', async () => {
      const v1 = await ctx.phx({ ...V1_CODEC, token: 'old' });
      const v2 = await ctx.phx({ token: 'new' });
      const c1 = v1.channel('room:mixed');
      const c2 = v2.channel('room:mixed');
      await joinOk(c1);
      await joinOk(c2);
      const g1 = collect(c1, 'shout');
      const g2 = collect(c2, 'shout');
      assert.deepEqual(await push(c2, 'shout', { from: 'v2' }), OK_EMPTY);
      assert.deepEqual(await push(c1, 'shout', { from: 'v1' }), OK_EMPTY);
      await waitUntil(() => g1.length >= 2 && g2.length >= 2, 3000, 'both shouts at both clients');
      await sleep(200);
      assert.deepEqual([...g1].map((p) => p.from).sort(), ['v1', 'v2']);
      assert.deepEqual([...g2].map((p) => p.from).sort(), ['v1', 'v2']);

      const api = waitFor(c1, 'news');
      assert.equal((await ctx.broadcast('room:mixed', 'news', { n: 1 })).status, 202);
      assert.deepEqual(await api, { n: 1 });
    });

    test('refused join and unauthorized room', async () => {
      const socket = await ctx.phx({ ...V1_CODEC });
      const channel = socket.channel('room:forbidden');
      assert.deepEqual(await join(channel), { status: 'error', response: { reason: 'unauthorized' } });
      channel.leave();
    });
  });

  describe('raw V1 frames', () => {
    for (const [name, query] of [
      ['vsn missing', { token: 'alice' }],
      ['vsn 1.0.0', { token: 'alice', vsn: '1.0.0' }],
    ]) {
      test(`${name}: replies, broadcasts and phx_close have exactly four keys`, async () => {
        const raw = await ctx.raw(query);
        const T = 'room:v1raw';

        raw.send({ topic: 'phoenix', event: 'heartbeat', payload: {}, ref: 'h1' });
        const hb = await raw.next();
        assert.deepEqual(keysOf(hb), V1_KEYS);
        assert.deepEqual(hb, { topic: 'phoenix', event: 'phx_reply', payload: OK_EMPTY, ref: 'h1' });

        raw.send({ topic: T, event: 'phx_join', payload: {}, ref: '1', join_ref: '1' });
        const joined = await raw.next();
        assert.deepEqual(keysOf(joined), V1_KEYS);
        assert.deepEqual(joined, { topic: T, event: 'phx_reply', payload: OK_EMPTY, ref: '1' });

        raw.send({ topic: T, event: 'ping', payload: { x: [1] }, ref: '2', join_ref: '1' });
        const pong = await raw.next();
        assert.deepEqual(keysOf(pong), V1_KEYS);
        assert.deepEqual(pong, { topic: T, event: 'phx_reply', payload: { status: 'ok', response: { x: [1] } }, ref: '2' });

        raw.send({ topic: T, event: 'shout', payload: { s: 1 }, ref: '3', join_ref: '1' });
        const frames = [await raw.next(), await raw.next()];
        for (const f of frames) assert.deepEqual(keysOf(f), V1_KEYS);
        const shout = frames.find((f) => f.event === 'shout');
        const reply = frames.find((f) => f.event === 'phx_reply');
        assert.deepEqual(shout, { topic: T, event: 'shout', payload: { s: 1 }, ref: null });
        assert.deepEqual(reply, { topic: T, event: 'phx_reply', payload: OK_EMPTY, ref: '3' });

        assert.equal((await ctx.broadcast(T, 'news', { a: 1 })).status, 202);
        const news = await raw.next();
        assert.deepEqual(keysOf(news), V1_KEYS);
        assert.deepEqual(news, { topic: T, event: 'news', payload: { a: 1 }, ref: null });

        raw.send({ topic: 'nope:1', event: 'phx_join', payload: {}, ref: '4', join_ref: '4' });
        const unmatched = await raw.next();
        assert.deepEqual(keysOf(unmatched), V1_KEYS);
        assert.deepEqual(unmatched, { topic: 'nope:1', event: 'phx_reply', payload: { status: 'error', response: { reason: 'unmatched topic' } }, ref: '4' });

        raw.send({ topic: T, event: 'leave_me', payload: {}, ref: '5', join_ref: '1' });
        const leaveReply = await raw.next();
        const close = await raw.next();
        assert.deepEqual(keysOf(leaveReply), V1_KEYS);
        assert.deepEqual(keysOf(close), V1_KEYS);
        assert.deepEqual(leaveReply, { topic: T, event: 'phx_reply', payload: OK_EMPTY, ref: '5' });
        assert.deepEqual(close, { topic: T, event: 'phx_close', payload: {}, ref: '1' });

        for (const f of raw.log) assert.ok(!Array.isArray(f), `a V1 connection got a V2 frame: ${JSON.stringify(f)}`);
      });
    }

    test('join without a join_ref key; crash sends phx_error with ref = join_ref', async () => {
      const raw = await ctx.raw({ token: 'alice', vsn: '1.0.0' });
      const T = 'room:v1crash';
      raw.send({ topic: T, event: 'phx_join', payload: {}, ref: '10' });
      assert.deepEqual(await raw.next(), { topic: T, event: 'phx_reply', payload: OK_EMPTY, ref: '10' });
      raw.send({ topic: T, event: 'ping', payload: {}, ref: '11' });
      assert.deepEqual(await raw.next(), { topic: T, event: 'phx_reply', payload: OK_EMPTY, ref: '11' });

      raw.send({ topic: T, event: 'phx_join', payload: {}, ref: '20', join_ref: '20' }); // duplicate join
      const dup = [await raw.next(), await raw.next()];
      assert.deepEqual(dup[0], { topic: T, event: 'phx_reply', payload: OK_EMPTY, ref: '20' });
      assert.equal(dup[1].event, 'phx_close');
      assert.deepEqual(keysOf(dup[1]), V1_KEYS);

      raw.send({ topic: T, event: 'crash', payload: {}, ref: '21', join_ref: '20' });
      const err = await raw.next();
      assert.deepEqual(keysOf(err), V1_KEYS);
      assert.deepEqual(err, { topic: T, event: 'phx_error', payload: { reason: 'channel_crash' }, ref: '20' });
    });
  });
});
