// 04 - the socket router's rules, frame by frame (PROTOCOL.md 6.1, Phoenix 1.8.12+
// column of section 12): heartbeat, unmatched topics, duplicate joins, stale and null
// join_refs, phx_leave, opaque refs, and the per-socket channel limit.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { useServer } from './lib/harness.mjs';
import { sleep } from './lib/util.mjs';

const OK_EMPTY = { status: 'ok', response: {} };
const UNMATCHED = { status: 'error', response: { reason: 'unmatched topic' } };
const TOO_MANY = { status: 'error', response: { reason: 'too many channels joined' } };

describe('phoenix router rules', { timeout: 30_000 }, () => {
  const ctx = useServer();

  test('heartbeat is answered on "phoenix" with join_ref null', async () => {
    const raw = await ctx.raw();
    let R = raw.nextRef();
    raw.send([null, R, 'phoenix', 'heartbeat', {}]);
    assert.deepEqual(await raw.next(), [null, R, 'phoenix', 'phx_reply', OK_EMPTY]);
    // Even when the client sends a join_ref.
    R = raw.nextRef();
    raw.send(['77', R, 'phoenix', 'heartbeat', {}]);
    assert.deepEqual(await raw.next(), [null, R, 'phoenix', 'phx_reply', OK_EMPTY]);
  });

  test('heartbeat is answered while channels are joined too', async () => {
    const raw = await ctx.raw();
    await raw.joinOk('room:hb');
    const R = raw.nextRef();
    raw.send([null, R, 'phoenix', 'heartbeat', {}]);
    assert.deepEqual(await raw.expectReply('phoenix', R), [null, R, 'phoenix', 'phx_reply', OK_EMPTY]);
  });

  test('join of a topic with no route: unmatched topic, join_ref null', async () => {
    const raw = await ctx.raw();
    const J = raw.nextRef();
    raw.send([J, J, 'nope:1', 'phx_join', {}]);
    assert.deepEqual(await raw.next(), [null, J, 'nope:1', 'phx_reply', UNMATCHED]);
    // A topic with no colon at all, and a prefix that only looks like room.
    for (const topic of ['nocolon', 'rooms:1', 'room']) {
      const J2 = raw.nextRef();
      raw.send([J2, J2, topic, 'phx_join', {}]);
      assert.deepEqual(await raw.expectReply(topic, J2), [null, J2, topic, 'phx_reply', UNMATCHED]);
    }
  });

  test('non-join event on an unjoined topic: unmatched topic, join_ref null', async () => {
    const raw = await ctx.raw();
    let R = raw.nextRef();
    raw.send(['5', R, 'room:notjoined', 'ping', { a: 1 }]);
    assert.deepEqual(await raw.next(), [null, R, 'room:notjoined', 'phx_reply', UNMATCHED]);
    R = raw.nextRef();
    raw.send([null, R, 'room:notjoined', 'shout', {}]);
    assert.deepEqual(await raw.next(), [null, R, 'room:notjoined', 'phx_reply', UNMATCHED]);
    // Anything but heartbeat on "phoenix" is just an unjoined topic.
    R = raw.nextRef();
    raw.send([null, R, 'phoenix', 'ping', {}]);
    assert.deepEqual(await raw.next(), [null, R, 'phoenix', 'phx_reply', UNMATCHED]);
  });

  test('duplicate join: ok reply for the new join_ref, then phx_close for the old one', async () => {
    const T = 'room:dup';
    const raw = await ctx.raw();
    const J1 = await raw.joinOk(T);
    const J2 = raw.nextRef();
    raw.send([J2, J2, T, 'phx_join', {}]);
    assert.deepEqual(await raw.next(), [J2, J2, T, 'phx_reply', OK_EMPTY]);
    assert.deepEqual(await raw.next(), [J1, J1, T, 'phx_close', {}]);
    // The new instance works and owns the topic; broadcasts arrive once.
    const R = raw.nextRef();
    raw.send([J2, R, T, 'ping', { v: 2 }]);
    assert.deepEqual(await raw.next(), [J2, R, T, 'phx_reply', { status: 'ok', response: { v: 2 } }]);
    await ctx.broadcast(T, 'once', {});
    assert.deepEqual(await raw.next(), [null, null, T, 'once', {}]);
    assert.deepEqual(await raw.collectFor(300), [], 'one subscription per topic after a duplicate join');
  });

  test('a message with a stale non-null join_ref is dropped without a reply', async () => {
    const T = 'room:stale';
    const raw = await ctx.raw();
    const J = await raw.joinOk(T);
    const stale = String(Number(J) + 1000);
    raw.send([stale, raw.nextRef(), T, 'ping', {}]);
    raw.send([stale, raw.nextRef(), T, 'shout', { must: 'not' }]);
    raw.send([stale, raw.nextRef(), T, 'crash', {}]);
    assert.deepEqual(await raw.collectFor(500), [], 'stale messages must be silently dropped');
    const R = raw.nextRef();
    raw.send([J, R, T, 'ping', { alive: true }]);
    assert.deepEqual(await raw.next(), [J, R, T, 'phx_reply', { status: 'ok', response: { alive: true } }]);
  });

  test('a message with a null join_ref is forwarded; the reply carries the channel join_ref', async () => {
    const T = 'room:nulljr';
    const raw = await ctx.raw();
    const J = await raw.joinOk(T);
    const R = raw.nextRef();
    raw.send([null, R, T, 'ping', { n: 1 }]);
    assert.deepEqual(await raw.next(), [J, R, T, 'phx_reply', { status: 'ok', response: { n: 1 } }]);
  });

  test('phx_leave of a joined topic: ok reply, then phx_close; no more broadcasts', async () => {
    const T = 'room:leave';
    const raw = await ctx.raw();
    const J = await raw.joinOk(T);
    const R = raw.nextRef();
    raw.send([J, R, T, 'phx_leave', {}]);
    assert.deepEqual(await raw.next(), [J, R, T, 'phx_reply', OK_EMPTY]);
    assert.deepEqual(await raw.next(), [J, J, T, 'phx_close', {}]);
    await sleep(200);
    await ctx.broadcast(T, 'late', {});
    assert.deepEqual(await raw.collectFor(300), []);
    const R2 = raw.nextRef();
    raw.send([J, R2, T, 'ping', {}]);
    assert.deepEqual(await raw.next(), [null, R2, T, 'phx_reply', UNMATCHED]);
  });

  test('phx_leave with a null join_ref leaves the joined channel', async () => {
    const T = 'room:leave_null';
    const raw = await ctx.raw();
    const J = await raw.joinOk(T);
    const R = raw.nextRef();
    raw.send([null, R, T, 'phx_leave', {}]);
    assert.deepEqual(await raw.next(), [J, R, T, 'phx_reply', OK_EMPTY]);
    assert.deepEqual(await raw.next(), [J, J, T, 'phx_close', {}]);
  });

  test('phx_leave of an unjoined topic: ok reply echoing the message join_ref, nothing else', async () => {
    const raw = await ctx.raw();
    let R = raw.nextRef();
    raw.send(['42', R, 'room:never', 'phx_leave', {}]);
    assert.deepEqual(await raw.next(), ['42', R, 'room:never', 'phx_reply', OK_EMPTY]);
    R = raw.nextRef();
    raw.send([null, R, 'nope:never', 'phx_leave', {}]);
    assert.deepEqual(await raw.next(), [null, R, 'nope:never', 'phx_reply', OK_EMPTY]);
    assert.deepEqual(await raw.collectFor(300), [], 'no phx_close for a topic that was never joined');
  });

  test('refs and join_refs are opaque: echoed verbatim', async () => {
    const T = 'room:refs';
    const raw = await ctx.raw();
    raw.send(['join-ref-☃', 'r-1', T, 'phx_join', {}]);
    assert.deepEqual(await raw.next(), ['join-ref-☃', 'r-1', T, 'phx_reply', OK_EMPTY]);
    raw.send(['join-ref-☃', '00017', T, 'ping', {}]);
    assert.deepEqual(await raw.next(), ['join-ref-☃', '00017', T, 'phx_reply', OK_EMPTY]);
    raw.send([null, 'a b"c\\d', 'phoenix', 'heartbeat', {}]);
    assert.deepEqual(await raw.next(), [null, 'a b"c\\d', 'phoenix', 'phx_reply', OK_EMPTY]);
  });

  test('numeric refs and join_refs are echoed as numbers', async () => {
    const T = 'room:numrefs';
    const raw = await ctx.raw();
    raw.send([null, 5, 'phoenix', 'heartbeat', {}]);
    assert.deepEqual(await raw.next(), [null, 5, 'phoenix', 'phx_reply', OK_EMPTY]);
    raw.send([7, 7, T, 'phx_join', {}]);
    assert.deepEqual(await raw.next(), [7, 7, T, 'phx_reply', OK_EMPTY]);
    raw.send([7, 8, T, 'ping', { n: 8 }]);
    assert.deepEqual(await raw.next(), [7, 8, T, 'phx_reply', { status: 'ok', response: { n: 8 } }]);
  });

  test('extra trailing array elements are ignored', async () => {
    const raw = await ctx.raw();
    raw.send([null, '1', 'phoenix', 'heartbeat', {}, 'extra', 6]);
    assert.deepEqual(await raw.next(), [null, '1', 'phoenix', 'phx_reply', OK_EMPTY]);
  });

  test('the default limit is 100 channels per socket', async () => {
    const raw = await ctx.raw();
    const joins = [];
    for (let i = 0; i < 100; i++) {
      const J = raw.nextRef();
      raw.send([J, J, `telemetry:c${i}`, 'phx_join', {}]);
      joins.push([J, `telemetry:c${i}`]);
    }
    for (const [J, T] of joins) assert.deepEqual(await raw.expectReply(T, J), [J, J, T, 'phx_reply', OK_EMPTY]);
    const J101 = raw.nextRef();
    raw.send([J101, J101, 'telemetry:c100', 'phx_join', {}]);
    assert.deepEqual(await raw.expectReply('telemetry:c100', J101), [J101, J101, 'telemetry:c100', 'phx_reply', TOO_MANY]);
    // Leaving one frees a slot.
    const [J0, T0] = joins[0];
    const R = raw.nextRef();
    raw.send([J0, R, T0, 'phx_leave', {}]);
    assert.deepEqual(await raw.expectReply(T0, R), [J0, R, T0, 'phx_reply', OK_EMPTY]);
    const Jn = raw.nextRef();
    raw.send([Jn, Jn, 'telemetry:c100', 'phx_join', {}]);
    assert.deepEqual(await raw.expectReply('telemetry:c100', Jn), [Jn, Jn, 'telemetry:c100', 'phx_reply', OK_EMPTY]);
  });
});

describe('--max-channels 3', { timeout: 20_000 }, () => {
  const ctx = useServer(['--max-channels', '3']);

  test('the fourth channel is refused; other sockets have their own budget', async () => {
    const raw = await ctx.raw();
    for (const T of ['room:a', 'room:b', 'telemetry:c']) await raw.joinOk(T);
    const J = raw.nextRef();
    raw.send([J, J, 'room:d', 'phx_join', {}]);
    assert.deepEqual(await raw.expectReply('room:d', J), [J, J, 'room:d', 'phx_reply', TOO_MANY]);
    // The refused join created nothing.
    const R = raw.nextRef();
    raw.send([J, R, 'room:d', 'ping', {}]);
    assert.deepEqual(await raw.expectReply('room:d', R), [null, R, 'room:d', 'phx_reply', UNMATCHED]);
    // The existing channels still work.
    const R2 = raw.nextRef();
    raw.send([null, R2, 'room:a', 'ping', { ok: 1 }]);
    assert.equal((await raw.expectReply('room:a', R2))[4].status, 'ok');

    const other = await ctx.raw({ token: 'bob', vsn: '2.0.0' });
    for (const T of ['room:a', 'room:b', 'room:d']) await other.joinOk(T);
  });

  test('at the limit, a duplicate join replaces the old channel instead of being refused', async () => {
    const raw = await ctx.raw();
    const J1 = await raw.joinOk('room:a');
    await raw.joinOk('room:b');
    await raw.joinOk('room:c');
    const J2 = raw.nextRef();
    raw.send([J2, J2, 'room:a', 'phx_join', {}]);
    assert.deepEqual(await raw.next(), [J2, J2, 'room:a', 'phx_reply', OK_EMPTY]);
    assert.deepEqual(await raw.next(), [J1, J1, 'room:a', 'phx_close', {}]);
  });

  test('slots are freed by phx_leave, leave_me and crash', async () => {
    const raw = await ctx.raw();
    const ja = await raw.joinOk('room:a');
    const jb = await raw.joinOk('room:b');
    const jc = await raw.joinOk('room:c');
    raw.send([ja, raw.nextRef(), 'room:a', 'phx_leave', {}]);
    await raw.expect((f) => f[2] === 'room:a' && f[3] === 'phx_close');
    await raw.joinOk('room:d');
    raw.send([jb, raw.nextRef(), 'room:b', 'leave_me', {}]);
    await raw.expect((f) => f[2] === 'room:b' && f[3] === 'phx_close');
    await raw.joinOk('room:e');
    raw.send([jc, raw.nextRef(), 'room:c', 'crash', {}]);
    await raw.expect((f) => f[2] === 'room:c' && f[3] === 'phx_error');
    await raw.joinOk('room:f');
    const J = raw.nextRef();
    raw.send([J, J, 'room:g', 'phx_join', {}]);
    assert.deepEqual(await raw.expectReply('room:g', J), [J, J, 'room:g', 'phx_reply', TOO_MANY]);
  });
});
