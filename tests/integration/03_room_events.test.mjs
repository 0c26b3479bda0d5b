// 03 - the demo app's channels (CONTRACT.md): room:* events and telemetry:*, checked both
// through phoenix.js (what an app sees) and as exact V2 frames (PROTOCOL.md 11).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { useServer } from './lib/harness.mjs';
import { collect, join, joinOk, push, waitChannelState, waitFor } from './lib/phx.mjs';
import { sleep, waitUntil } from './lib/util.mjs';

const OK_EMPTY = { status: 'ok', response: {} };
const isEvent = (topic, event) => (f) => Array.isArray(f) && f[2] === topic && f[3] === event;

describe('room and telemetry channels', { timeout: 30_000 }, () => {
  const ctx = useServer();

  describe('room:* through phoenix.js', () => {
    test('join room:forbidden is refused with unauthorized', async () => {
      const socket = await ctx.phx();
      const channel = socket.channel('room:forbidden');
      const reply = await join(channel);
      assert.deepEqual(reply, { status: 'error', response: { reason: 'unauthorized' } });
      channel.leave(); // stop phoenix.js from retrying the refused join
    });

    test('join any other room is ok with {}', async () => {
      const socket = await ctx.phx();
      const reply = await join(socket.channel('room:lobby'));
      assert.deepEqual(reply, OK_EMPTY);
    });

    test('ping replies ok with the same payload', async () => {
      const socket = await ctx.phx();
      const channel = socket.channel('room:ping');
      await joinOk(channel);
      const payload = { s: 'héllo ☃', n: 42, f: 1.5, b: true, z: null, arr: [1, 'two', { three: 3 }], nested: { deep: { x: [] } } };
      assert.deepEqual(await push(channel, 'ping', payload, 1000), { status: 'ok', response: payload });
      assert.deepEqual(await push(channel, 'ping', {}), OK_EMPTY);
    });

    test('ping echoes numbers outside the int64 range', async () => {
      // JSON.stringify writes 1e19 as the integer literal 10000000000000000000.
      const socket = await ctx.phx();
      const channel = socket.channel('room:bignum');
      await joinOk(channel);
      const payload = { big: 1e19, neg: -1e19, max: Number.MAX_SAFE_INTEGER, tiny: 5e-324, huge: 1.5e300 };
      assert.deepEqual(await push(channel, 'ping', payload, 1000), { status: 'ok', response: payload });
    });

    test('shout reaches every subscriber once, sender included; sender gets ok {}', async () => {
      const a1 = await ctx.phx({ token: 'alice' });
      const a2 = await ctx.phx({ token: 'alice' });
      const b = await ctx.phx({ token: 'bob' });
      const chans = [a1, a2, b].map((s) => s.channel('room:shout'));
      await Promise.all(chans.map((c) => joinOk(c)));
      const got = chans.map((c) => collect(c, 'shout'));

      const reply = await push(chans[0], 'shout', { body: 'hi' });
      assert.deepEqual(reply, OK_EMPTY);
      await waitUntil(() => got.every((g) => g.length >= 1), 3000, 'shout at every subscriber');
      await sleep(200);
      for (const g of got) assert.deepEqual([...g], [{ body: 'hi' }]);
    });

    test('shout_others skips the sender channel but not the same user on another socket', async () => {
      const a1 = await ctx.phx({ token: 'alice' });
      const a2 = await ctx.phx({ token: 'alice' });
      const b = await ctx.phx({ token: 'bob' });
      const [c1, c2, c3] = [a1, a2, b].map((s) => s.channel('room:others'));
      await Promise.all([c1, c2, c3].map((c) => joinOk(c)));
      const [g1, g2, g3] = [c1, c2, c3].map((c) => collect(c, 'shout'));

      assert.deepEqual(await push(c1, 'shout_others', { body: 'psst' }), OK_EMPTY);
      await waitUntil(() => g2.length >= 1 && g3.length >= 1, 3000, 'shout_others at the others');
      await sleep(300);
      assert.deepEqual([...g1], [], 'the sender channel must not get its own shout_others');
      assert.deepEqual([...g2], [{ body: 'psst' }]);
      assert.deepEqual([...g3], [{ body: 'psst' }]);
    });

    test('fail replies error {reason: failed}', async () => {
      const socket = await ctx.phx();
      const channel = socket.channel('room:fail');
      await joinOk(channel);
      assert.deepEqual(await push(channel, 'fail', {}), { status: 'error', response: { reason: 'failed' } });
    });

    test('noreply gets no reply: the phoenix.js push times out', async () => {
      const socket = await ctx.phx();
      const channel = socket.channel('room:noreply');
      await joinOk(channel);
      const started = Date.now();
      const reply = await push(channel, 'noreply', {}, 500);
      assert.equal(reply.status, 'timeout');
      assert.ok(Date.now() - started >= 450);
      // The channel is still usable.
      assert.deepEqual(await push(channel, 'ping', { after: 1 }), { status: 'ok', response: { after: 1 } });
    });

    test('unknown event replies error {reason: unknown event}', async () => {
      const socket = await ctx.phx();
      const channel = socket.channel('room:unknown');
      await joinOk(channel);
      assert.deepEqual(await push(channel, 'no_such_event', { a: 1 }), { status: 'error', response: { reason: 'unknown event' } });
    });

    test('crash errors the channel; phoenix.js rejoins with a new join_ref', async () => {
      const socket = await ctx.phx({ rejoinAfterMs: () => 200 });
      const channel = socket.channel('room:crash');
      await joinOk(channel);
      const firstJoinRef = channel.joinRef();
      const errored = waitFor(channel, 'phx_error', { timeout: 3000 });
      channel.push('crash', {});
      assert.deepEqual(await errored, { reason: 'channel_crash' });
      await waitUntil(() => channel.state === 'joined' && channel.joinRef() !== firstJoinRef, 5000, 'automatic rejoin');
      assert.deepEqual(await push(channel, 'ping', { again: true }), { status: 'ok', response: { again: true } });
    });

    test('leave_me replies ok then closes the channel; phoenix.js does not rejoin', async () => {
      const socket = await ctx.phx({ rejoinAfterMs: () => 100 });
      const channel = socket.channel('room:leave_me');
      await joinOk(channel);
      const inbound = [];
      socket.onMessage((m) => m.topic === 'room:leave_me' && inbound.push(m));
      let closedEvents = 0;
      channel.onClose(() => closedEvents++);

      assert.deepEqual(await push(channel, 'leave_me', {}), OK_EMPTY);
      await waitChannelState(channel, 'closed');
      assert.equal(closedEvents, 1);
      assert.ok(!socket.channels.includes(channel), 'channel removed from the socket');
      await sleep(800);
      assert.equal(channel.state, 'closed');
      const joinsAfter = inbound.filter((m) => m.event === 'phx_reply' && m.ref === m.join_ref && m.join_ref !== channel.joinRef());
      assert.deepEqual(joinsAfter, [], 'no rejoin should happen after phx_close');
    });

    test('client leave() is acknowledged and closes the channel', async () => {
      const socket = await ctx.phx();
      const channel = socket.channel('room:bye');
      await joinOk(channel);
      const reply = await new Promise((resolve) => channel.leave().receive('ok', (r) => resolve(r)));
      assert.deepEqual(reply, {});
      await waitChannelState(channel, 'closed');
    });
  });

  describe('room:* exact frames', () => {
    test('join ok and refused join frames', async () => {
      const raw = await ctx.raw();
      const j1 = raw.nextRef();
      raw.send([j1, j1, 'room:wire', 'phx_join', {}]);
      assert.deepEqual(await raw.expectReply('room:wire', j1), [j1, j1, 'room:wire', 'phx_reply', OK_EMPTY]);

      const j2 = raw.nextRef();
      raw.send([j2, j2, 'room:forbidden', 'phx_join', {}]);
      assert.deepEqual(await raw.expectReply('room:forbidden', j2), [
        j2, j2, 'room:forbidden', 'phx_reply', { status: 'error', response: { reason: 'unauthorized' } },
      ]);
      // A refused join creates no channel.
      const r = raw.nextRef();
      assert.deepEqual(await raw.call('room:forbidden', 'ping', {}, { joinRef: j2, ref: r }), [
        null, r, 'room:forbidden', 'phx_reply', { status: 'error', response: { reason: 'unmatched topic' } },
      ]);
    });

    test('ping, fail, unknown event and noreply frames', async () => {
      const raw = await ctx.raw();
      const T = 'room:frames';
      const J = await raw.joinOk(T);

      let R = raw.nextRef();
      raw.send([J, R, T, 'ping', { x: 1 }]);
      assert.deepEqual(await raw.expectReply(T, R), [J, R, T, 'phx_reply', { status: 'ok', response: { x: 1 } }]);

      R = raw.nextRef();
      raw.send([J, R, T, 'fail', {}]);
      assert.deepEqual(await raw.expectReply(T, R), [J, R, T, 'phx_reply', { status: 'error', response: { reason: 'failed' } }]);

      R = raw.nextRef();
      raw.send([J, R, T, 'whatever', {}]);
      assert.deepEqual(await raw.expectReply(T, R), [J, R, T, 'phx_reply', { status: 'error', response: { reason: 'unknown event' } }]);

      R = raw.nextRef();
      raw.send([J, R, T, 'noreply', { y: 2 }]);
      assert.deepEqual(await raw.collectFor(500), [], 'noreply must produce no frame at all');
    });

    test('shout: [null,null,T,"shout",P] to everyone plus an ok reply to the sender', async () => {
      const T = 'room:shout_frames';
      const sender = await ctx.raw({ token: 'alice', vsn: '2.0.0' });
      const other = await ctx.raw({ token: 'bob', vsn: '2.0.0' });
      const J = await sender.joinOk(T);
      await other.joinOk(T);
      const R = sender.nextRef();
      const P = { body: 'hello', n: [1, 2] };
      sender.send([J, R, T, 'shout', P]);
      assert.deepEqual(await sender.expect(isEvent(T, 'shout')), [null, null, T, 'shout', P]);
      assert.deepEqual(await sender.expectReply(T, R), [J, R, T, 'phx_reply', OK_EMPTY]);
      assert.deepEqual(await other.expect(isEvent(T, 'shout')), [null, null, T, 'shout', P]);
      await sleep(200);
      assert.deepEqual(sender.queue, [], 'exactly one shout and one reply for the sender');
      assert.deepEqual(other.queue, [], 'exactly one shout for the other subscriber');
    });

    test('shout_others: the sender gets only the reply', async () => {
      const T = 'room:others_frames';
      const sender = await ctx.raw({ token: 'alice', vsn: '2.0.0' });
      const sameUser = await ctx.raw({ token: 'alice', vsn: '2.0.0' });
      const other = await ctx.raw({ token: 'bob', vsn: '2.0.0' });
      const J = await sender.joinOk(T);
      await sameUser.joinOk(T);
      await other.joinOk(T);
      const R = sender.nextRef();
      sender.send([J, R, T, 'shout_others', { q: 1 }]);
      assert.deepEqual(await sender.expectReply(T, R), [J, R, T, 'phx_reply', OK_EMPTY]);
      assert.deepEqual(await sameUser.expect(isEvent(T, 'shout')), [null, null, T, 'shout', { q: 1 }]);
      assert.deepEqual(await other.expect(isEvent(T, 'shout')), [null, null, T, 'shout', { q: 1 }]);
      assert.deepEqual(await sender.collectFor(300), []);
    });

    test('crash: phx_error with ref == join_ref, topic unmatched until rejoined, others unaffected', async () => {
      const T = 'room:crash_frames';
      const raw = await ctx.raw();
      const other = await ctx.raw({ token: 'bob', vsn: '2.0.0' });
      const J = await raw.joinOk(T);
      await other.joinOk(T);

      const R = raw.nextRef();
      raw.send([J, R, T, 'crash', {}]);
      assert.deepEqual(await raw.expect(isEvent(T, 'phx_error')), [J, J, T, 'phx_error', { reason: 'channel_crash' }]);
      assert.deepEqual(await raw.collectFor(200, (f) => Array.isArray(f) && f[1] === R), [], 'a crashed channel does not reply to the crash message');

      // Before any rejoin the topic is gone from this connection.
      const R2 = raw.nextRef();
      raw.send([J, R2, T, 'ping', {}]);
      assert.deepEqual(await raw.expectReply(T, R2), [null, R2, T, 'phx_reply', { status: 'error', response: { reason: 'unmatched topic' } }]);

      // ...and no longer receives broadcasts, while the other subscriber still does.
      await ctx.broadcast(T, 'news', { k: 1 });
      assert.deepEqual(await other.expect(isEvent(T, 'news')), [null, null, T, 'news', { k: 1 }]);
      assert.deepEqual(await raw.collectFor(300, isEvent(T, 'news')), []);

      // A rejoin with a new join_ref works.
      const J2 = await raw.joinOk(T);
      const R3 = raw.nextRef();
      raw.send([J2, R3, T, 'ping', { back: 1 }]);
      assert.deepEqual(await raw.expectReply(T, R3), [J2, R3, T, 'phx_reply', { status: 'ok', response: { back: 1 } }]);
    });

    test('leave_me: ok reply, then phx_close with ref == join_ref; topic then unmatched', async () => {
      const T = 'room:leave_frames';
      const raw = await ctx.raw();
      const J = await raw.joinOk(T);
      const R = raw.nextRef();
      raw.send([J, R, T, 'leave_me', {}]);
      assert.deepEqual(await raw.next(), [J, R, T, 'phx_reply', OK_EMPTY]);
      assert.deepEqual(await raw.next(), [J, J, T, 'phx_close', {}]);

      const R2 = raw.nextRef();
      raw.send([J, R2, T, 'ping', {}]);
      assert.deepEqual(await raw.expectReply(T, R2), [null, R2, T, 'phx_reply', { status: 'error', response: { reason: 'unmatched topic' } }]);
      await sleep(200);
      await ctx.broadcast(T, 'after_close', {});
      assert.deepEqual(await raw.collectFor(300), [], 'no broadcast after the channel closed');
    });
  });

  describe('telemetry:*', () => {
    test('join ok {}; inbound events get no reply; broadcasts still arrive', async () => {
      const T = 'telemetry:dash';
      const raw = await ctx.raw();
      const J = await raw.joinOk(T);
      for (const event of ['ping', 'shout', 'fail', 'anything']) raw.send([J, raw.nextRef(), T, event, { e: event }]);
      assert.deepEqual(await raw.collectFor(500), [], 'telemetry ignores inbound events');
      await ctx.broadcast(T, 'metric', { cpu: 0.5 });
      assert.deepEqual(await raw.expect(isEvent(T, 'metric')), [null, null, T, 'metric', { cpu: 0.5 }]);
    });

    test('phoenix.js: join ok, a push times out, broadcasts are delivered', async () => {
      const socket = await ctx.phx();
      const channel = socket.channel('telemetry:js');
      assert.deepEqual(await join(channel), OK_EMPTY);
      assert.equal((await push(channel, 'ping', {}, 400)).status, 'timeout');
      const got = waitFor(channel, 'metric');
      await ctx.broadcast('telemetry:js', 'metric', { v: 7 });
      assert.deepEqual(await got, { v: 7 });
    });
  });
});
