// 40 - GET /metrics: a well-formed Prometheus exposition (parsed line by line, lib/prom.mjs) whose
// numbers move with real traffic: connections, frames and bytes each way per transport, broadcasts,
// deliveries, the publish->write latency histogram, disconnects by close code, admission refusals.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { LongPoll } from 'phoenix';

import { useServer } from './lib/harness.mjs';
import { collect, joinOk, push } from './lib/phx.mjs';
import { RawClient } from './lib/raw.mjs';
import { scrape, value } from './lib/prom.mjs';
import { waitUntil } from './lib/util.mjs';

const WS = { transport: 'websocket' };
const LP = { transport: 'longpoll' };

/** after - before for the sample name{labels} (both scrapes must have it). */
function delta(before, after, name, labels = {}) {
  const a = value(after, name, labels);
  const b = value(before, name, labels) ?? 0;
  assert.notEqual(a, undefined, `${name} ${JSON.stringify(labels)} missing`);
  return a - b;
}

describe('metrics', { timeout: 60_000 }, () => {
  const ctx = useServer(['--static-dir', '']);

  test('GET /metrics is exposition format 0.0.4 with every family documented', async () => {
    const m = await scrape(ctx.port); // status, content type, and every line checked
    assert.equal(value(m, 'cinder_build_info', { version: '0.1.0' }), 1);
    for (const [name, type] of [
      ['cinder_connections', 'gauge'],
      ['cinder_connections_opened_total', 'counter'],
      ['cinder_disconnects_total', 'counter'],
      ['cinder_admission_refusals_total', 'counter'],
      ['cinder_slow_consumer_closes_total', 'counter'],
      ['cinder_draining', 'gauge'],
      ['cinder_frames_received_total', 'counter'],
      ['cinder_received_bytes_total', 'counter'],
      ['cinder_frames_sent_total', 'counter'],
      ['cinder_sent_bytes_total', 'counter'],
      ['cinder_bad_frames_total', 'counter'],
      ['cinder_broadcasts_total', 'counter'],
      ['cinder_deliveries_total', 'counter'],
      ['cinder_write_queue_bytes', 'gauge'],
      ['cinder_publish_write_latency_seconds', 'histogram'],
      ['cinder_joined_channels', 'gauge'],
      ['cinder_topics', 'gauge'],
      ['cinder_presence_entries', 'gauge'],
      ['cinder_longpoll_sessions', 'gauge'],
    ]) {
      const f = m.families.get(name);
      assert.ok(f, `family ${name}`);
      assert.equal(f.type, type, name);
      assert.ok(f.help.length > 10, `${name} has a HELP text`);
    }
    assert.equal(value(m, 'cinder_draining'), 0);
    assert.equal(m.families.has('cinder_redis_bridge_state'), false, 'no Redis families on a single node');
    // POST is not a scrape
    const post = await ctx.request({ method: 'POST', path: '/metrics', body: '{}' });
    assert.equal(post.status, 405);
  });

  test('WebSocket traffic moves connections, frames, bytes, broadcasts, deliveries and the latency histogram', async () => {
    const before = await scrape(ctx.port);
    const a = await ctx.phx({ token: 'm-alice' });
    const b = await ctx.phx({ token: 'm-bob' });
    const chA = a.channel('room:metrics');
    const chB = b.channel('room:metrics');
    await joinOk(chA);
    await joinOk(chB);
    const gotA = collect(chA, 'shout');
    const gotB = collect(chB, 'shout');
    assert.equal((await push(chA, 'shout', { n: 1 })).status, 'ok');
    assert.equal((await ctx.broadcast('room:metrics', 'shout', { n: 2 })).status, 202);
    await waitUntil(() => gotA.length === 2 && gotB.length === 2, 3000, 'both shouts at both clients');

    // the server counts a frame as sent once written: wait for the queues to drain
    const after = await waitUntil(async () => {
      const m = await scrape(ctx.port);
      return value(m, 'cinder_write_queue_bytes') === 0 ? m : null;
    }, 3000, 'empty write queues');

    assert.equal(delta(before, after, 'cinder_connections', WS), 2);
    assert.equal(delta(before, after, 'cinder_connections_opened_total', WS), 2);
    assert.equal(delta(before, after, 'cinder_connections', LP), 0);
    // in: two joins and a push (and maybe heartbeats)
    assert.ok(delta(before, after, 'cinder_frames_received_total', WS) >= 3);
    assert.ok(delta(before, after, 'cinder_received_bytes_total', WS) >= 3 * 30);
    // out: two join replies, the push reply, four shouts, presence frames
    const sent = delta(before, after, 'cinder_frames_sent_total', WS);
    assert.ok(sent >= 7, `frames sent ${sent}`);
    assert.ok(delta(before, after, 'cinder_sent_bytes_total', WS) >= sent * 20);
    assert.equal(delta(before, after, 'cinder_frames_sent_total', LP), 0);
    // two shouts, plus the presence diffs of the joins
    assert.ok(delta(before, after, 'cinder_broadcasts_total') >= 2);
    assert.ok(delta(before, after, 'cinder_deliveries_total') >= 4);
    const timed = delta(before, after, 'cinder_publish_write_latency_seconds_count', WS);
    assert.ok(timed >= 4, `latency observations ${timed}`);
    assert.ok(timed < sent, 'replies are not broadcasts: not timed');
    assert.ok(delta(before, after, 'cinder_publish_write_latency_seconds_sum', WS) > 0);
    assert.ok(
      delta(before, after, 'cinder_publish_write_latency_seconds_bucket', { ...WS, le: '1' }) >= 4,
      'broadcasts written within a second on loopback',
    );
    assert.equal(delta(before, after, 'cinder_joined_channels'), 2);
    assert.equal(delta(before, after, 'cinder_presence_entries'), 2);
    assert.ok(value(after, 'cinder_topics') >= 3, 'room:metrics and two socket ids');
  });

  test('disconnects are counted by the close code the client saw', async () => {
    const before = await scrape(ctx.port);
    // the server closes: a frame that is not a Phoenix message -> 1007
    const bad = await ctx.raw({ token: 'm-bad', vsn: '2.0.0' });
    bad.send('this is not json');
    assert.equal((await bad.waitClose()).code, 1007);
    // the client closes with its own code
    const polite = await ctx.raw({ token: 'm-polite', vsn: '2.0.0' });
    polite.ws.close(4001, 'bye');
    await polite.waitClose();
    // the client vanishes without a close frame -> 1006
    const rude = await ctx.raw({ token: 'm-rude', vsn: '2.0.0' });
    rude.terminate();

    const after = await waitUntil(async () => {
      const m = await scrape(ctx.port);
      return delta(before, m, 'cinder_connections', WS) === 0 ? m : null;
    }, 3000, 'the three connections to end');
    assert.equal(delta(before, after, 'cinder_disconnects_total', { code: '1007' }), 1);
    assert.equal(delta(before, after, 'cinder_disconnects_total', { code: '4001' }), 1);
    assert.equal(delta(before, after, 'cinder_disconnects_total', { code: '1006' }), 1);
    assert.equal(delta(before, after, 'cinder_bad_frames_total'), 1);
    assert.equal(delta(before, after, 'cinder_connections_opened_total', WS), 3);
  });

  test('long-poll traffic is counted under transport="longpoll"', async () => {
    const before = await scrape(ctx.port);
    const sock = await ctx.phx({ token: 'm-lp', transport: LongPoll });
    const ch = sock.channel('room:metrics-lp');
    await joinOk(ch);
    const got = collect(ch, 'shout');
    assert.equal((await ctx.broadcast('room:metrics-lp', 'shout', { n: 1 })).status, 202);
    await waitUntil(() => got.length === 1, 5000, 'the broadcast over long-poll');
    const after = await scrape(ctx.port);
    assert.equal(delta(before, after, 'cinder_connections', LP), 1);
    assert.equal(delta(before, after, 'cinder_longpoll_sessions'), 1);
    assert.equal(delta(before, after, 'cinder_connections_opened_total', LP), 1);
    assert.ok(delta(before, after, 'cinder_frames_received_total', LP) >= 1, 'the join');
    assert.ok(delta(before, after, 'cinder_frames_sent_total', LP) >= 2, 'the join reply and the shout');
    assert.ok(delta(before, after, 'cinder_publish_write_latency_seconds_count', LP) >= 1);
    assert.equal(delta(before, after, 'cinder_connections', WS), 0);
  });
});

describe('metrics: admission refusals', { timeout: 30_000 }, () => {
  const ctx = useServer(['--static-dir', '', '--max-connections', '1']);

  test('an upgrade over max_connections is counted by reason', async () => {
    const before = await scrape(ctx.port);
    await ctx.raw({ token: 'first', vsn: '2.0.0' });
    await assert.rejects(RawClient.open(ctx.server.wsUrl({ token: 'second', vsn: '2.0.0' })), (err) => err.statusCode === 503);
    // the refusing shard publishes its figures at the end of its loop turn, which may come just after
    // the 503 reached us: wait for the count, bounded
    const refused = (m) => delta(before, m, 'cinder_admission_refusals_total', { reason: 'max_connections' });
    const after = await waitUntil(async () => {
      const m = await scrape(ctx.port);
      return refused(m) >= 1 ? m : null;
    }, 3000, 'the refusal in /metrics');
    assert.equal(refused(after), 1);
    assert.equal(delta(before, after, 'cinder_admission_refusals_total', { reason: 'connection_rate' }), 0);
    assert.equal(value(after, 'cinder_connections', WS), 1);
  });
});
