// 15 - permessage-deflate: off by default; with --compress a client that offers it gets it, and
// frames (text and binary, small and large) survive the round trip.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import WebSocket from 'ws';

import { useServer } from './lib/harness.mjs';
import { joinOk, push, waitFor } from './lib/phx.mjs';
import { withTimeout } from './lib/util.mjs';

function openWs(ctx) {
  const ws = new WebSocket(ctx.server.wsUrl({ token: 'z', vsn: '2.0.0' }), { perMessageDeflate: true });
  return withTimeout(new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  }), 3000, 'ws open');
}

describe('compression off by default', { timeout: 20_000 }, () => {
  const ctx = useServer();
  test('no extension is negotiated', async () => {
    const ws = await openWs(ctx);
    assert.equal(ws.extensions, '');
    ws.terminate();
  });
});

describe('compression with --compress', { timeout: 20_000 }, () => {
  const ctx = useServer(['--compress', '--compress-mem-level', '4', '--compress-level', '6']);

  test('permessage-deflate is negotiated', async () => {
    const ws = await openWs(ctx);
    assert.match(ws.extensions, /permessage-deflate/);
    ws.terminate();
  });

  test('phoenix.js works over a compressed connection: pings, large shouts, binary', async () => {
    const a = await ctx.phx({ token: 'a' });
    const b = await ctx.phx({ token: 'b' });
    const ca = a.channel('room:z');
    const cb = b.channel('room:z');
    await joinOk(ca);
    await joinOk(cb);
    const big = { text: 'compressible '.repeat(20_000), n: [...Array(1000).keys()] };
    assert.deepEqual(await push(ca, 'ping', big), { status: 'ok', response: big });
    const got = waitFor(cb, 'shout');
    await push(ca, 'shout', big);
    assert.deepEqual(await got, big);
    const reply = await push(ca, 'binary', new Uint8Array([5, 4, 3]).buffer);
    assert.deepEqual([...new Uint8Array(reply.response)], [5, 4, 3]);
  });
});
