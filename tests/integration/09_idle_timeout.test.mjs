// 09 - idle timeout: with --idle-timeout 1s a connection that sends nothing is closed
// (1000) within about 3 s, while a phoenix.js client heartbeating every 300 ms stays.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { useServer } from './lib/harness.mjs';
import { joinOk, ping, push } from './lib/phx.mjs';
import { sleep } from './lib/util.mjs';

describe('--idle-timeout 1s', { timeout: 20_000 }, () => {
  const ctx = useServer(['--idle-timeout', '1s']);

  test('a silent raw client is closed with 1000 within ~3 s', async () => {
    const started = Date.now();
    const raw = await ctx.raw();
    const { code } = await raw.waitClose(3500);
    const elapsed = Date.now() - started;
    assert.equal(code, 1000);
    assert.ok(elapsed >= 800, `closed after ${elapsed} ms: too early for a 1 s idle timeout`);
  });

  test('a silent client with a joined channel is closed too', async () => {
    const raw = await ctx.raw();
    await raw.joinOk('room:idle');
    const { code } = await raw.waitClose(3500);
    assert.equal(code, 1000);
  });

  test('a phoenix.js client heartbeating every 300 ms stays connected', async () => {
    const socket = await ctx.phx({ heartbeatIntervalMs: 300 });
    const channel = socket.channel('room:awake');
    await joinOk(channel);
    const closes = [];
    socket.onClose((ev) => closes.push(ev.code));
    await sleep(2500);
    assert.deepEqual(closes, [], 'the heartbeating socket must not be closed');
    assert.equal(socket.connectionState(), 'open');
    assert.deepEqual(await push(channel, 'ping', { awake: true }), { status: 'ok', response: { awake: true } });
    assert.ok((await ping(socket)) >= 0);
  });

  test('any inbound frame resets the timer (raw heartbeats every 400 ms)', async () => {
    const raw = await ctx.raw();
    for (let i = 0; i < 6; i++) {
      await sleep(400);
      const reply = await raw.call('phoenix', 'heartbeat', {});
      assert.equal(reply[4].status, 'ok');
    }
    assert.ok(raw.isOpen, 'the connection should still be open after 2.4 s of heartbeats');
  });
});
