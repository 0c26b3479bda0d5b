// 08 - bounded outbound queues: with a small --max-queue-size, a client that stops
// reading is disconnected (close 1008 when it can be seen) while a normal client on the
// same topic receives every broadcast.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';

import { useServer } from './lib/harness.mjs';
import { collect, joinOk } from './lib/phx.mjs';
import { mapLimit, waitUntil, withTimeout } from './lib/util.mjs';

// Room for a normal client on a busy machine to fall behind by 50 messages without being cut off.
const QUEUE = 1 << 20;
const MESSAGE_BYTES = 20_000;
// Enough bytes to fill what the kernel can buffer (the server's send buffer grows up to
// tcp_wmem's maximum, 4 MiB on stock Linux; the paused client's receive buffer stays
// small because it is never read) plus the queue, with a wide margin.
function maxSendBuffer() {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/tcp_wmem', 'utf8').trim().split(/\s+/)[2]) || 4 << 20;
  } catch {
    return 4 << 20;
  }
}
const MESSAGES = Math.min(1500, Math.max(400, Math.ceil((2 * maxSendBuffer() + 2 * QUEUE) / MESSAGE_BYTES)));

describe('slow consumer', { timeout: 45_000 }, () => {
  const ctx = useServer(['--max-queue-size', String(QUEUE)]);

  test('a client that stops reading is cut off; a normal client gets everything', async () => {
    const T = 'telemetry:slow';
    const slow = await ctx.raw({ token: 'slow', vsn: '2.0.0' });
    await slow.joinOk(T);
    const socket = await ctx.phx({ token: 'fast', heartbeatIntervalMs: 1000 });
    const channel = socket.channel(T);
    await joinOk(channel);
    const got = collect(channel, 'blob');

    slow.ws._socket.pause(); // stop reading: the server's queue for it can only grow

    const pad = 'x'.repeat(MESSAGE_BYTES);
    const seqs = Array.from({ length: MESSAGES }, (_, i) => i);
    // One request at a time: a burst of concurrent 20 KB broadcasts handled in one event
    // loop turn could fill the queue even for a client that reads promptly.
    const statuses = await mapLimit(seqs, 1, async (i) => (await ctx.broadcast(T, 'blob', { seq: i, pad })).status);
    assert.deepEqual(statuses.filter((s) => s !== 202), [], 'every broadcast accepted');

    await waitUntil(() => got.length >= MESSAGES, 15_000, `all ${MESSAGES} broadcasts at the normal client`).catch((err) => {
      throw new Error(`${err.message} (got ${got.length})`);
    });
    const seen = new Set(got.map((p) => p.seq));
    assert.equal(seen.size, MESSAGES, 'the normal client got every broadcast exactly once');
    assert.equal(got.length, MESSAGES);
    assert.equal(socket.connectionState(), 'open');

    // Let the slow client read again: it must find its connection ended rather than the
    // whole backlog.
    slow.ws._socket.resume();
    const closed = await withTimeout(slow.closed, 10_000, 'the slow client connection to end');
    const received = slow.log.filter((f) => Array.isArray(f) && f[3] === 'blob').length;
    assert.ok(received < MESSAGES, `the slow client should have been cut off, yet it received all ${received} broadcasts`);
    assert.ok([1008, 1006].includes(closed.code), `close code ${closed.code} (1008 expected if a close frame got through)`);
    assert.ok(ctx.server.alive(), ctx.server.describe());
  });

  test('after a slow consumer was dropped, new clients are served normally', async () => {
    const socket = await ctx.phx();
    const channel = socket.channel('telemetry:slow');
    await joinOk(channel);
    const got = collect(channel, 'after');
    assert.equal((await ctx.broadcast('telemetry:slow', 'after', { ok: true })).status, 202);
    await waitUntil(() => got.length === 1, 3000, 'broadcast after the slow client');
  });
});
