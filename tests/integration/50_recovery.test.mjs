// 50 - recovery after reconnect with the stock phoenix client (history topics, the `topics` setting):
// kill a client's TCP connection, publish 50 messages, let phoenix.js reconnect: exactly the 50 missed
// arrive, in order, then live ones, with recovered: true; a restarted server (new epoch) answers
// recovered: false; the same across two nodes through Redis, including a client that comes back on the
// other node.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';

import { Socket } from 'phoenix';
import WebSocket from 'ws';

import { broadcast } from './lib/http.mjs';
import { RedisServer } from './lib/redis.mjs';
import { CinderServer } from './lib/server.mjs';
import { sleep, waitUntil, withTimeout } from './lib/util.mjs';

const dir = mkdtempSync(path.join(tmpdir(), 'cinder-recovery-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const config = path.join(dir, 'topics.json');
writeFileSync(config, JSON.stringify({ topics: [{ pattern: 'telemetry:*', history: { size: 1000, ttl: '10m' } }] }));

/**
 * A phoenix.js client on `topic` that asks for what it missed on every rejoin (the params closure),
 * recording every payload, every join reply, and its cursor.
 */
function recoveringClient(server, topic) {
  const state = { got: [], replies: [], cursor: null };
  const socket = new Socket(server.socketUrl, {
    transport: WebSocket,
    params: { token: 'r' },
    reconnectAfterMs: () => 400,
    rejoinAfterMs: () => 200,
  });
  const channel = socket.channel(topic, () => (state.cursor ? { since: state.cursor } : {}));
  channel.on('tick', (p) => {
    state.got.push(p);
    state.cursor = { seq: p._seq, epoch: p._epoch };
  });
  channel.joinPush.receive('ok', (r) => {
    state.replies.push(r);
    if (!state.cursor || r.recovered === false) state.cursor = { seq: r.seq, epoch: r.epoch };
  });
  socket.connect();
  const joined = withTimeout(new Promise((resolve) => channel.join().receive('ok', resolve)), 5000, 'join');
  return { socket, channel, state, joined };
}

async function publish(port, topic, from, to) {
  for (let n = from; n <= to; n++) await broadcast(port, topic, 'tick', { n });
}

describe('recovery on one node', { timeout: 60_000 }, () => {
  test('50 missed messages after a dropped TCP connection, in order, then live ones', async () => {
    const server = new CinderServer(['-c', config]);
    await server.start();
    try {
      const c = recoveringClient(server, 'telemetry:one');
      const first = await c.joined;
      assert.match(first.epoch, /^[0-9a-f]{16}$/);
      assert.equal(first.seq, 0);
      assert.equal(first.recovered, undefined, 'a first join asks for nothing');
      await publish(server.port, 'telemetry:one', 1, 5);
      await waitUntil(() => c.state.got.length === 5, 3000, 'the live messages');
      c.socket.conn._socket.destroy(); // no close handshake: the client finds out and reconnects
      await publish(server.port, 'telemetry:one', 6, 55);
      await waitUntil(() => c.state.replies.length === 2, 5000, 'the rejoin');
      assert.deepEqual({ ...c.state.replies[1], epoch: 'E' }, { epoch: 'E', seq: 55, recovered: true });
      assert.equal(c.state.replies[1].epoch, first.epoch);
      await waitUntil(() => c.state.got.length === 55, 3000, 'the 50 missed messages');
      await publish(server.port, 'telemetry:one', 56, 60);
      await waitUntil(() => c.state.got.length === 60, 3000, 'live again');
      await sleep(200);
      assert.deepEqual(c.state.got.map((p) => p.n), [...Array(60).keys()].map((i) => i + 1), 'exactly once, in order');
      assert.deepEqual(c.state.got.map((p) => p._seq), [...Array(60).keys()].map((i) => i + 1));
      c.socket.disconnect();
    } finally {
      await server.stop();
    }
  });

  test('after a server restart (a new epoch) recovered is false', async () => {
    const first = new CinderServer(['-c', config]);
    await first.start();
    const port = first.port;
    const c = recoveringClient(first, 'telemetry:restart');
    const r1 = await c.joined;
    await publish(port, 'telemetry:restart', 1, 3);
    await waitUntil(() => c.state.got.length === 3, 3000, 'messages before the restart');
    await first.stop();
    const second = new CinderServer(['-c', config], { port });
    await second.start();
    try {
      await waitUntil(() => c.state.replies.length === 2, 8000, 'the rejoin on the restarted server');
      const r2 = c.state.replies[1];
      assert.equal(r2.recovered, false);
      assert.notEqual(r2.epoch, r1.epoch);
      await publish(port, 'telemetry:restart', 1, 2);
      await waitUntil(() => c.state.got.length === 5, 3000, 'live in the new epoch');
      c.socket.disconnect();
    } finally {
      await second.stop();
    }
  });
});

describe('recovery across two nodes through Redis', { timeout: 60_000 }, () => {
  test('missed messages come back on the same node and on the other one', async () => {
    const redis = new RedisServer();
    await redis.start();
    // two shards each: numbered broadcasts reach a node's shards through Redis, the rest through the shards' own carrier
    const args = ['-c', config, '--redis', redis.url, '--cluster-heartbeat', '200ms', '--shards', '2'];
    const A = new CinderServer(args);
    const B = new CinderServer(args);
    await A.start();
    await B.start();
    try {
      await waitUntil(async () => (await redis.publish('cinder:publish', '{"topic":"x:1","event":"e","payload":{}}')) === 4, 5000, 'both bridges up');
      const c = recoveringClient(A, 'telemetry:two');
      await c.joined;
      await publish(B.port, 'telemetry:two', 1, 5); // published on the other node
      await waitUntil(() => c.state.got.length === 5, 3000, 'live across nodes');
      c.socket.conn._socket.destroy();
      await publish(B.port, 'telemetry:two', 6, 55);
      await waitUntil(() => c.state.replies.length === 2 && c.state.got.length === 55, 6000, 'rejoin and the 50 missed');
      assert.equal(c.state.replies[1].recovered, true);
      assert.deepEqual(c.state.got.map((p) => p.n), [...Array(55).keys()].map((i) => i + 1));
      // the same cursor on node B: both nodes keep the same history
      const cursor = c.state.cursor;
      c.socket.disconnect();
      await publish(A.port, 'telemetry:two', 56, 60);
      const other = new Socket(B.socketUrl, { transport: WebSocket, params: { token: 'moved' } });
      const got = [];
      const ch = other.channel('telemetry:two', { since: cursor });
      ch.on('tick', (p) => got.push(p.n));
      other.connect();
      const reply = await withTimeout(new Promise((resolve) => ch.join().receive('ok', resolve)), 5000, 'join on B');
      assert.equal(reply.recovered, true);
      assert.equal(reply.epoch, cursor.epoch, 'one epoch for the cluster');
      await waitUntil(() => got.length === 5, 3000, 'the 5 missed, replayed by the other node');
      assert.deepEqual(got, [56, 57, 58, 59, 60]);
      other.disconnect();
    } finally {
      await A.stop();
      await B.stop();
      await redis.stop();
    }
  });
});
