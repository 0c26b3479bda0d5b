// 30 - cluster through a real redis-server: three real nodes behave as one server (broadcasts,
// broadcast_from, backend publishes with redis-cli, presence across nodes and its expiry when a node
// is killed), and Redis faults (killed, restarted, garbage on the channels) never stop local delivery.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { Presence } from 'phoenix';

import { broadcast } from './lib/http.mjs';
import { connect, disconnect, joinOk, makeSocket, push } from './lib/phx.mjs';
import { CLUSTER_SHARDS as SHARDS, RedisServer } from './lib/redis.mjs';
import { sleep, waitUntil } from './lib/util.mjs';

describe('cluster through Redis', { timeout: 90_000 }, () => {
  const redis = new RedisServer();
  const nodes = [];
  const sockets = [];

  before(async () => {
    await redis.start();
    await redis.startNodes(3, [], nodes);
  });

  after(async () => {
    await Promise.all(sockets.map((s) => disconnect(s)));
    for (const n of nodes) if (n.alive()) await n.stop();
    await redis.stop();
  });

  async function client(node, token) {
    const s = await connect(makeSocket(node, { token }));
    sockets.push(s);
    return s;
  }

  /** A joined channel on node whose events of `event` are counted in the returned array. */
  async function listener(node, token, topic, event) {
    const s = await client(node, token);
    const ch = s.channel(topic);
    const got = [];
    ch.on(event, (p) => got.push(p));
    await joinOk(ch);
    return { socket: s, channel: ch, got };
  }

  test('a shout on B and an API broadcast on C reach a client on A, each exactly once', async () => {
    const [A, B, C] = nodes;
    const alice = await listener(A, 'alice', 'room:x1', 'shout');
    const bob = await listener(B, 'bob', 'room:x1', 'shout');
    const carol = await listener(C, 'carol', 'room:x1', 'shout');
    assert.equal((await push(bob.channel, 'shout', { n: 1 })).status, 'ok');
    await broadcast(C.port, 'room:x1', 'shout', { n: 2 });
    await waitUntil(() => alice.got.length >= 2 && bob.got.length >= 2 && carol.got.length >= 2, 3000, 'both shouts everywhere');
    await sleep(300); // duplicates would arrive by now
    for (const who of [alice, bob, carol]) assert.deepEqual(who.got.map((p) => p.n).sort(), [1, 2]);
  });

  test('shout_others excludes only the sending channel, on every node', async () => {
    const [A, B] = nodes;
    const alice = await listener(A, 'alice', 'room:x2', 'shout');
    const bob = await listener(B, 'bob', 'room:x2', 'shout');
    const bob2 = await listener(B, 'bob', 'room:x2', 'shout'); // the same user on another socket
    await push(bob.channel, 'shout_others', { n: 3 });
    await waitUntil(() => alice.got.length === 1 && bob2.got.length === 1, 3000, 'others got it');
    await sleep(300);
    assert.equal(bob.got.length, 0);
    assert.equal(alice.got.length, 1);
  });

  test('redis-cli PUBLISH of plain JSON reaches clients on every node; garbage is dropped', async () => {
    const subs = await Promise.all(nodes.map((n, i) => listener(n, `u${i}`, 'telemetry:fleet', 'position')));
    assert.equal(await redis.publish('cinder:publish', JSON.stringify({ topic: 'telemetry:fleet', event: 'position', payload: { id: 7 } })), 3 * SHARDS);
    await redis.publish('cinder:publish', 'not json');
    await redis.publish('cinder:publish', JSON.stringify({ topic: 5, event: 'position', payload: {} }));
    await redis.publish('cinder:nodes', 'C\x09garbage of a wrong version');
    assert.equal(await redis.publishRaw('cinder:nodes', 'C\x01B' + 'x'.repeat(2_000_000)), 3 * SHARDS);
    await waitUntil(() => subs.every((s) => s.got.length === 1), 3000, 'the publish on every node');
    await sleep(200);
    for (const s of subs) assert.deepEqual(s.got, [{ id: 7 }]);
    for (const n of nodes) assert.ok(n.alive(), n.describe());
  });

  test('presence lists users of every node; a killed node\'s users leave', async () => {
    const [A, , C] = nodes;
    const s = await client(A, 'watcher');
    const ch = s.channel('room:pres');
    const presence = new Presence(ch);
    await joinOk(ch);
    const onC = await listener(C, 'carol', 'room:pres', 'shout');
    await waitUntil(() => presence.list((k) => k).includes('carol'), 3000, 'carol (node C) listed on node A');
    // kill -9 node C: its heartbeats stop, its entries expire on A
    C.stopping = true;
    C.proc.kill('SIGKILL');
    await C.exited;
    await waitUntil(() => !presence.list((k) => k).includes('carol'), 5000, 'carol left after node C expired');
    assert.ok(presence.list((k) => k).includes('watcher'));
    void onC;
  });

  test('Redis killed: local delivery goes on; restarted: cross-node delivery resumes', async () => {
    const [A, B] = nodes;
    const a = await listener(A, 'ra', 'telemetry:r', 'tick');
    const b = await listener(B, 'rb', 'telemetry:r', 'tick');
    await redis.kill();
    await broadcast(A.port, 'telemetry:r', 'tick', { n: 1 });
    await broadcast(B.port, 'telemetry:r', 'tick', { n: 2 });
    await waitUntil(() => a.got.length === 1 && b.got.length === 1, 3000, 'local deliveries while Redis is down');
    assert.deepEqual(a.got, [{ n: 1 }]);
    assert.deepEqual(b.got, [{ n: 2 }]);
    await redis.start(); // same port
    // the bridges retry with backoff (at most 5 s); publish until B hears A again
    await waitUntil(async () => {
      await broadcast(A.port, 'telemetry:r', 'tick', { n: 3 });
      await sleep(200);
      return b.got.some((p) => p.n === 3);
    }, 12_000, 'cross-node delivery after Redis restarted', 300);
    for (const n of [A, B]) assert.ok(n.alive());
  });
});
