// 51 - slow consumers by topic policy: a subscriber that stops reading on a conflated topic is not
// closed; when it reads again it has the latest value of every key, its queue stayed bounded, and a fast
// subscriber got every message. drop_oldest keeps the newest messages; close (the default) closes 1008.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';

import { broadcast } from './lib/http.mjs';
import { joinOk } from './lib/phx.mjs';
import { useServer } from './lib/harness.mjs';
import { scrape, value } from './lib/prom.mjs';
import { sleep, waitUntil } from './lib/util.mjs';

const dir = mkdtempSync(path.join(tmpdir(), 'cinder-conflation-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const config = path.join(dir, 'topics.json');
writeFileSync(
  config,
  JSON.stringify({
    topics: [
      { pattern: 'telemetry:conflated', conflate: 'id', slow_consumer: 'conflate' },
      { pattern: 'telemetry:dropping', slow_consumer: 'drop_oldest' },
    ],
  }),
);

const KEYS = 20;
// enough bytes that the loopback socket buffers (megabytes) fill and the server queue is reached
const ROUNDS = 300;
const PAD = 'x'.repeat(4000);

async function metric(ctx, name, labels = {}) {
  return value(await scrape(ctx.port), name, labels) ?? 0;
}

describe('slow consumer policies', { timeout: 90_000 }, () => {
  // the queue must hold one message per key for conflation to keep them all (20 x 4 KB < 256 KiB)
  const ctx = useServer(['-c', config, '--max-queue-size', '256KiB']);

  test('conflate: the slow reader ends with the latest value per key; the fast one got everything', async () => {
    const fast = await ctx.phx({ token: 'fast' });
    const fch = fast.channel('telemetry:conflated');
    const fastGot = [];
    fch.on('pos', (p) => fastGot.push(p));
    await joinOk(fch);

    const slow = await ctx.raw({ token: 'slow', vsn: '2.0.0' });
    await slow.joinOk('telemetry:conflated');
    slow.ws._socket.pause(); // stops reading: the kernel buffers fill, then its server queue

    for (let r = 1; r <= ROUNDS; r++)
      for (let id = 0; id < KEYS; id++) await broadcast(ctx.port, 'telemetry:conflated', 'pos', { id, r, pad: PAD });
    await waitUntil(() => fastGot.length === KEYS * ROUNDS, 10_000, 'every message to the fast reader');

    const queued = await metric(ctx, 'cinder_write_queue_bytes');
    assert.ok(queued <= 256 * 1024 + 8192, `the slow reader's queue stayed bounded: ${queued}`);
    assert.ok((await metric(ctx, 'cinder_slow_consumer_conflated_total')) > 0, 'conflation happened');
    assert.equal(slow.isOpen, true, 'not closed');

    slow.ws._socket.resume();
    const latest = new Map();
    await waitUntil(async () => {
      for (const f of await slow.collectFor(100, (f) => Array.isArray(f) && f[3] === 'pos')) latest.set(f[4].id, f[4].r);
      return latest.size === KEYS && [...latest.values()].every((r) => r === ROUNDS);
    }, 10_000, 'the latest value of every key at the slow reader');
    // nothing about the fast reader was conflated
    const perKey = new Map();
    for (const p of fastGot) perKey.set(p.id, (perKey.get(p.id) ?? 0) + 1);
    assert.ok([...perKey.values()].every((n) => n === ROUNDS));
  });

  test('drop_oldest: the slow reader keeps the newest messages and stays connected', async () => {
    const slow = await ctx.raw({ token: 'slow2', vsn: '2.0.0' });
    await slow.joinOk('telemetry:dropping');
    slow.ws._socket.pause();
    const before = await metric(ctx, 'cinder_slow_consumer_dropped_total', { policy: 'drop_oldest' });
    for (let n = 1; n <= 4000; n++) await broadcast(ctx.port, 'telemetry:dropping', 'tick', { n, pad: PAD });
    assert.ok((await metric(ctx, 'cinder_slow_consumer_dropped_total', { policy: 'drop_oldest' })) > before);
    slow.ws._socket.resume();
    let last = 0;
    await waitUntil(async () => {
      for (const f of await slow.collectFor(100, (f) => Array.isArray(f) && f[3] === 'tick')) last = Math.max(last, f[4].n);
      return last === 4000;
    }, 10_000, 'the newest message at the slow reader');
    assert.equal(slow.isOpen, true);
  });

  test('close (no policy): the slow reader is closed with 1008', async () => {
    const slow = await ctx.raw({ token: 'slow3', vsn: '2.0.0' });
    await slow.joinOk('telemetry:plain');
    slow.ws._socket.pause();
    for (let n = 1; n <= 4000 && slow.isOpen; n++) await broadcast(ctx.port, 'telemetry:plain', 'tick', { n, pad: PAD });
    slow.ws._socket.resume();
    const { code } = await slow.waitClose(10_000);
    assert.equal(code, 1008);
    await sleep(10);
  });
});
