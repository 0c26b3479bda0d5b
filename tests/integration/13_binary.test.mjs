// 13 - V2 binary frames (PROTOCOL.md 4): phoenix.js ArrayBuffer pushes, binary replies, binary
// broadcasts, and what the server does with broken binary frames.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { useServer } from './lib/harness.mjs';
import { joinOk, push, waitFor } from './lib/phx.mjs';

const bytes = (...b) => new Uint8Array(b).buffer;

describe('binary frames', { timeout: 30_000 }, () => {
  const ctx = useServer();

  test('an ArrayBuffer push to "binary" is echoed as a binary reply', async () => {
    const socket = await ctx.phx();
    const channel = socket.channel('room:bin');
    await joinOk(channel);
    const reply = await push(channel, 'binary', bytes(1, 2, 3, 0, 255));
    assert.equal(reply.status, 'ok');
    assert.ok(reply.response instanceof ArrayBuffer);
    assert.deepEqual([...new Uint8Array(reply.response)], [1, 2, 3, 0, 255]);
    const big = new Uint8Array(200_000).map((_, i) => i % 251);
    const bigReply = await push(channel, 'binary', big.buffer);
    assert.deepEqual(new Uint8Array(bigReply.response), big);
  });

  test('a JSON payload to "binary" is refused, a binary shout is broadcast as binary', async () => {
    const a = await ctx.phx({ token: 'a' });
    const b = await ctx.phx({ token: 'b' });
    const ca = a.channel('room:binshout');
    const cb = b.channel('room:binshout');
    await joinOk(ca);
    await joinOk(cb);
    assert.deepEqual(await push(ca, 'binary', { x: 1 }), { status: 'error', response: { reason: 'binary payload expected' } });
    const got = waitFor(cb, 'shout');
    assert.equal((await push(ca, 'shout', bytes(9, 8, 7))).status, 'ok');
    const payload = await got;
    assert.ok(payload instanceof ArrayBuffer);
    assert.deepEqual([...new Uint8Array(payload)], [9, 8, 7]);
  });

  test('the exact reply bytes of PROTOCOL.md section 4', async () => {
    const raw = await ctx.raw();
    raw.send(['1', '1', 'room:a', 'phx_join', {}]);
    await raw.expectReply('room:a', '1');
    raw.send(Buffer.from('00010106063132726f6f6d3a6162696e617279010203', 'hex'));
    const reply = await raw.expect((f) => f.binary && f.binary[0] === 1, 3000, 'a binary reply');
    assert.equal(reply.binary.toString('hex'), '01010106023132726f6f6d3a616f6b010203');
  });

  for (const [name, hex] of [
    ['truncated header', '000101'],
    ['lengths past the end', '0001010606313272'],
    ['unknown kind 1', '01010106023132726f6f6d3a616f6b'],
    ['unknown kind 7', '0700000000'],
  ]) {
    test(`broken binary frame (${name}) closes only that connection with 1007`, async () => {
      const bad = await ctx.raw();
      bad.send(Buffer.from(hex, 'hex'));
      const { code } = await bad.waitClose();
      assert.equal(code, 1007);
      const socket = await ctx.phx({ token: 'after' });
      await joinOk(socket.channel('room:still-alive'));
    });
  }
});
