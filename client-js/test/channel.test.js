// joinChannel / pushAsync: replies become resolved values, error replies and timeouts clear errors.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { JoinError, PushError, TimeoutError, createSocket, joinChannel, pushAsync } from '../src/index.js';
import { Cinder, sleep, waitUntil } from './lib/cinder.js';

describe('joinChannel and pushAsync', { timeout: 30_000 }, () => {
  const server = new Cinder();
  let socket;
  before(async () => {
    await server.start();
    socket = createSocket(server.httpUrl, { token: 'alice', rejoinAfterMs: () => 50, timeout: 2000 });
    await waitUntil(() => socket.isConnected(), 3000, 'socket open');
  });
  after(async () => {
    socket.disconnect();
    await server.stop();
  });

  test('join resolves with the reply; a joined channel resolves at once', async () => {
    const ch = socket.channel('room:lobby');
    assert.deepEqual(await joinChannel(ch, { timeout: 2000 }), {});
    assert.equal(ch.state, 'joined');
    assert.deepEqual(await joinChannel(ch), {});
  });

  test('a refused join rejects with JoinError and leaves the channel (no background rejoins)', async () => {
    const ch = socket.channel('room:forbidden');
    const err = await joinChannel(ch, { timeout: 2000 }).then(
      () => assert.fail('joined room:forbidden'),
      (e) => e,
    );
    assert.ok(err instanceof JoinError);
    assert.equal(err.code, 'join_error');
    assert.equal(err.topic, 'room:forbidden');
    assert.deepEqual(err.response, { reason: 'unauthorized' });
    assert.equal(err.message, 'join "room:forbidden" refused: unauthorized');
    await sleep(300); // rejoinAfterMs is 50: a rejoin would have happened by now
    assert.ok(['closed', 'leaving'].includes(ch.state), ch.state);
    assert.ok(!socket.channels.includes(ch) || ch.state === 'leaving');
  });

  test('keepRetrying leaves phoenix.js rejoining', async () => {
    const ch = socket.channel('room:forbidden');
    await assert.rejects(joinChannel(ch, { keepRetrying: true, timeout: 2000 }), JoinError);
    assert.ok(['errored', 'joining'].includes(ch.state), ch.state);
    ch.leave();
  });

  test('a join with no reply rejects with TimeoutError', async () => {
    const idle = createSocket(server.httpUrl, { token: 'tim', connect: false }); // never connects: no reply
    const ch = idle.channel('room:lobby');
    const started = Date.now();
    const err = await joinChannel(ch, { timeout: 150 }).catch((e) => e);
    assert.ok(err instanceof TimeoutError, String(err));
    assert.equal(err.message, 'join "room:lobby" timed out after 150 ms');
    assert.ok(Date.now() - started < 1000);
  });

  test('joining a channel twice rejects with phoenix.js\'s error', async () => {
    const ch = socket.channel('room:twice');
    ch.join();
    await assert.rejects(joinChannel(ch), /tried to join multiple times/);
    ch.leave();
  });

  test('push: ok reply resolves, error reply rejects with PushError, no reply with TimeoutError', async () => {
    const ch = socket.channel('room:push');
    await joinChannel(ch);
    assert.deepEqual(await pushAsync(ch, 'ping', { n: 1, s: 'é' }), { n: 1, s: 'é' });

    const failed = await pushAsync(ch, 'fail', {}).catch((e) => e);
    assert.ok(failed instanceof PushError);
    assert.equal(failed.code, 'push_error');
    assert.equal(failed.event, 'fail');
    assert.deepEqual(failed.response, { reason: 'failed' });
    assert.equal(failed.message, 'push "fail" on "room:push" failed: failed');

    const unknown = await pushAsync(ch, 'nope').catch((e) => e);
    assert.deepEqual(unknown.response, { reason: 'unknown event' });

    const silent = await pushAsync(ch, 'noreply', {}, { timeout: 150 }).catch((e) => e);
    assert.ok(silent instanceof TimeoutError);
    assert.equal(silent.message, 'push "noreply" on "room:push" got no reply within 150 ms');
    ch.leave();
  });

  test('push before join rejects (phoenix.js refuses it)', async () => {
    const ch = socket.channel('room:early');
    await assert.rejects(pushAsync(ch, 'ping', {}), /before joining/);
  });
});
