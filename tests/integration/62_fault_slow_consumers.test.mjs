// 62 - fault: 1,000 slow consumers at once. A thousand raw WebSocket subscribers stop reading
// (stalled_clients.py: small socket buffers, so the server's 64 KiB write queues are what fills) on a
// topic with the default close policy, a hundred more on a drop_oldest topic, while five phoenix.js
// subscribers read both topics. The five get every message (zero loss), exactly the thousand are
// closed (1008), the drop_oldest ones stay connected with bounded queues, the server's queue bytes
// return to 0, and its peak RSS is reported (bounded on the release build). The ticks are 8 KB: with
// libwebsockets' default send size (532 bytes per loop pass) the fast subscribers fell behind among a
// thousand other sockets and were closed as slow consumers themselves (fixed in server/endpoint.c).
// The queues hold 64 KiB (8 ticks): a shard receives the broadcasts published on another shard in
// batches (server/shard_hub.c), so a reader that keeps up can be a few ticks behind for a moment;
// 16 KiB (two ticks) closed such readers when the box was busy.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';

import { broadcast } from './lib/http.mjs';
import { useServer } from './lib/harness.mjs';
import { isAsanBuild, memory, mib } from './lib/memory.mjs';
import { joinOk } from './lib/phx.mjs';
import { scrape, value } from './lib/prom.mjs';
import { CINDER_BIN } from './lib/server.mjs';
import { StalledClients } from './lib/stalled.mjs';
import { waitUntil } from './lib/util.mjs';

const SLOW = 1000;
const DROPPING = 100;
const FAST = 5;
const QUEUE = 64 * 1024;
const PAD = 'x'.repeat(8000); // 8 KB: more than one send() of libwebsockets' default (see server/endpoint.c)
const MAX_ROUNDS = 3000; // a bound: a thousand 64 KiB queues overflow after a few hundred
const AFTER_ROUNDS = 100; // published once every slow consumer is closed

const dir = mkdtempSync(path.join(tmpdir(), 'cinder-slow-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const config = path.join(dir, 'topics.json');
writeFileSync(config, JSON.stringify({ topics: [{ pattern: 'telemetry:dropping', slow_consumer: 'drop_oldest' }] }));

describe(`${SLOW} slow consumers at once`, { timeout: 150_000 }, () => {
  const ctx = useServer(['-c', config, '--max-queue-size', String(QUEUE), '--connection-rate', '0']);
  const helpers = [];
  after(async () => Promise.all(helpers.map((h) => h.close())));

  test('only the slow ones are closed; fast subscribers lose nothing; queues drain', async (t) => {
    const metric = async (name, labels = {}) => value(await scrape(ctx.port), name, labels) ?? 0;
    const fast = [];
    for (let i = 0; i < FAST; i++) {
      const socket = await ctx.phx({ token: `fast${i}` });
      const got = { flood: [], dropping: [], closes: 0 };
      socket.onClose(() => got.closes++);
      for (const topic of ['flood', 'dropping']) {
        const ch = socket.channel(`telemetry:${topic}`);
        ch.on('tick', (p) => got[topic].push(p.n));
        await joinOk(ch);
      }
      fast.push(got);
    }
    const slow = await StalledClients.start({ port: ctx.port, count: SLOW, topic: 'telemetry:flood', prefix: 'slow', src: '127.0.0.2' });
    helpers.push(slow);
    const dropping = await StalledClients.start({ port: ctx.port, count: DROPPING, topic: 'telemetry:dropping', prefix: 'drop', src: '127.0.0.3' });
    helpers.push(dropping);
    assert.equal(await metric('cinder_connections', { transport: 'websocket' }), FAST + SLOW + DROPPING);
    const baseline = memory(ctx.server.proc.pid);

    // One round: a tick on each topic, one request at a time (as a backend would).
    let rounds = 0;
    const round = async () => {
      rounds++;
      for (const topic of ['flood', 'dropping']) {
        const res = await broadcast(ctx.port, `telemetry:${topic}`, 'tick', { n: rounds, pad: PAD });
        assert.equal(res.status, 202);
      }
    };
    const started = Date.now();
    while (rounds < MAX_ROUNDS) {
      await round();
      if (rounds % 25 === 0 && (await metric('cinder_slow_consumer_closes_total')) >= SLOW) break;
    }
    const closedAfter = rounds;
    const closeMs = Date.now() - started;
    for (let i = 0; i < AFTER_ROUNDS; i++) await round();

    // zero loss at the fast subscribers, none of them closed
    await waitUntil(() => fast.every((f) => f.flood.length >= rounds && f.dropping.length >= rounds), 20_000, 'every tick at the fast subscribers').catch((err) => {
      throw new Error(`${err.message}: ${fast.map((f) => `${f.flood.length}/${f.dropping.length} (${f.closes} closes)`).join(' ')} of ${rounds}`);
    });
    const expected = Array.from({ length: rounds }, (_, i) => i + 1);
    for (const f of fast) {
      assert.deepEqual(f.flood, expected, 'flood ticks in order, none lost or repeated');
      assert.deepEqual(f.dropping, expected, 'dropping ticks in order, none lost or repeated');
      assert.equal(f.closes, 0, 'a fast subscriber was disconnected');
    }

    // exactly the thousand were closed; the drop_oldest ones stayed, with bounded queues
    assert.equal(await metric('cinder_slow_consumer_closes_total'), SLOW);
    await waitUntil(async () => (await metric('cinder_connections', { transport: 'websocket' })) === FAST + DROPPING, 15_000, 'the slow connections to be gone');
    assert.ok((await metric('cinder_slow_consumer_dropped_total', { policy: 'drop_oldest' })) > 0, 'drop_oldest dropped');
    const queued = await metric('cinder_write_queue_bytes');
    assert.ok(queued <= DROPPING * QUEUE, `queue bytes ${queued} over ${DROPPING} x ${QUEUE}`);
    const peak = memory(ctx.server.proc.pid);

    // the slow clients read what reached them: each found its connection ended, none still open
    const ends = await slow.drain();
    assert.equal(ends.open ?? 0, 0, JSON.stringify(ends));
    assert.equal(Object.values(ends).reduce((a, b) => a + b, 0), SLOW);
    assert.ok(Object.keys(ends).every((k) => k === '1008' || k === 'eof'), JSON.stringify(ends));
    // the drop_oldest ones read their backlog and are still connected; every queue empties
    const dropEnds = await dropping.drain(2);
    assert.deepEqual(dropEnds, { open: DROPPING });
    await waitUntil(async () => (await metric('cinder_write_queue_bytes')) === 0, 10_000, 'cinder_write_queue_bytes back to 0');

    t.diagnostic(
      `slow consumers: ${SLOW} closed after ${closedAfter} rounds (${closeMs} ms), ${ends['1008'] ?? 0} saw 1008, ` +
        `${ends.eof ?? 0} only EOF; fast: ${FAST} x ${rounds} x 2 ticks, 0 lost; queue bytes at the peak ${queued}; ` +
        `server RSS ${mib(baseline.rss)} with everyone connected, peak ${mib(peak.hwm)}`,
    );
    // Queued frames are shared by every subscriber (one copy per broadcast); what a slow connection
    // holds of its own is at most one partly written frame (libwebsockets' copy): a few MiB here.
    if (!isAsanBuild(CINDER_BIN)) assert.ok(peak.hwm < 64 * 1024, `peak RSS ${mib(peak.hwm)}`);
    assert.ok(ctx.server.alive(), ctx.server.describe());
  });
});
