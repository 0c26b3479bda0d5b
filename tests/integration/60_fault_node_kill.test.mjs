// 60 - fault: kill -9 of a cluster node while phoenix.js clients are joined. Two nodes on Redis behind
// a health-checking TCP balancer (lib/balancer.mjs); 200 phoenix.js sockets (stock reconnect and
// rejoin timings) come in through the balancer and land on node A, each joined to a presence topic
// and a ticking topic; 20 more sit on node B directly, and a backend posts a tick to B every 10 ms.
// A is killed with SIGKILL: B's own clients lose no tick, A's users expire from presence on B (their
// old metas go within the cluster expiry), and every one of A's sockets reconnects through the
// balancer to B and rejoins by itself.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { Presence, Socket } from 'phoenix';
import WebSocket from 'ws';

import { balancer } from './lib/balancer.mjs';
import { broadcast } from './lib/http.mjs';
import { connect, disconnect, joinOk, makeSocket } from './lib/phx.mjs';
import { scrape, value } from './lib/prom.mjs';
import { RedisServer } from './lib/redis.mjs';
import { HOST } from './lib/server.mjs';
import { mapLimit, sleep, waitUntil } from './lib/util.mjs';

const ON_A = 200;
const ON_B = 20;

describe('kill -9 of a node', { timeout: 120_000 }, () => {
  const redis = new RedisServer();
  let A, B, lb;
  const nodes = []; // as started, for the teardown
  const sockets = [];

  before(async () => {
    await redis.start();
    [A, B] = await redis.startNodes(2, ['--connection-rate', '0'], nodes);
    lb = await balancer([A.port, B.port]);
  });

  after(async () => {
    await Promise.all(sockets.map((s) => disconnect(s)));
    await lb?.close();
    for (const n of nodes) if (n.alive()) await n.stop();
    await redis.stop();
  });

  test(`B keeps serving, A's users expire from presence, A's ${ON_A} phoenix.js sockets rejoin on B`, async (t) => {
    // A's clients, through the balancer, with phoenix.js's own reconnect and rejoin timings
    const viaLb = await mapLimit([...Array(ON_A).keys()], 50, async (i) => {
      const socket = new Socket(`ws://${HOST}:${lb.port}/socket`, { transport: WebSocket, params: { token: `a${i}` }, timeout: 5000 });
      sockets.push(socket);
      const c = { socket, opens: 0, ticks: [] };
      socket.onOpen(() => c.opens++);
      await connect(socket);
      await joinOk(socket.channel('room:cluster'));
      const ticking = socket.channel('telemetry:cluster');
      ticking.on('tick', (p) => c.ticks.push(p.n));
      await joinOk(ticking);
      return c;
    });
    assert.equal(lb.routed.get(A.port), ON_A, 'every balanced socket started on A');

    // B's own clients and a presence watcher
    const local = await mapLimit([...Array(ON_B).keys()], 20, async (i) => {
      const socket = await connect(makeSocket(B, { token: `b${i}` }));
      sockets.push(socket);
      const ticks = [];
      const ch = socket.channel('telemetry:cluster');
      ch.on('tick', (p) => ticks.push(p.n));
      await joinOk(ch);
      return { socket, ticks, closes: 0 };
    });
    for (const l of local) l.socket.onClose(() => l.closes++);
    const watcher = await connect(makeSocket(B, { token: 'watcher' }));
    sockets.push(watcher);
    const wch = watcher.channel('room:cluster');
    const presence = new Presence(wch);
    await joinOk(wch);
    const metasOf = () => new Map(presence.list((id, { metas }) => [id, metas.map((m) => m.phx_ref)]));
    await waitUntil(() => metasOf().size === ON_A + 1, 5000, "A's users listed in presence on B");
    const oldRefs = new Set([...metasOf()].filter(([id]) => id.startsWith('a')).flatMap(([, refs]) => refs));
    assert.equal(oldRefs.size, ON_A);

    // a backend posting to B every 10 ms throughout
    let sent = 0;
    let publishing = true;
    const publisher = (async () => {
      while (publishing) {
        const res = await broadcast(B.port, 'telemetry:cluster', 'tick', { n: sent + 1 });
        assert.equal(res.status, 202);
        sent++;
        await sleep(10);
      }
    })();
    await waitUntil(() => viaLb.every((c) => c.ticks.length > 0), 5000, "B's ticks at A's clients through Redis");

    const expiredBefore = value(await scrape(B.port), 'cinder_cluster_peers_expired_total') ?? 0;
    const killedAt = Date.now();
    const sentAtKill = sent;
    A.stopping = true;
    A.proc.kill('SIGKILL');
    await A.exited;

    // every one of A's sockets reconnects through the balancer (to B) and its channel rejoins
    await waitUntil(() => viaLb.every((c) => c.opens >= 2 && c.ticks.at(-1) > sentAtKill), 30_000, "A's sockets rejoined on B").catch((err) => {
      const waiting = viaLb.filter((c) => !(c.opens >= 2 && c.ticks.at(-1) > sentAtKill)).length;
      throw new Error(`${err.message}: ${waiting} of ${ON_A} not yet`);
    });
    const rejoinedMs = Date.now() - killedAt;
    assert.equal(lb.routed.get(B.port), ON_A, 'each reconnected once, to B');

    // A's old metas expire; each of A's users is listed once, with its new meta from B
    await waitUntil(() => {
      const now = metasOf();
      return [...now.values()].every((refs) => refs.length === 1 && !oldRefs.has(refs[0])) && now.size === ON_A + 1;
    }, 10_000, "A's old presence metas to expire on B");
    const expiredMs = Date.now() - killedAt;
    assert.ok((value(await scrape(B.port), 'cinder_cluster_peers_expired_total') ?? 0) > expiredBefore, 'B expired node A');

    await sleep(300);
    publishing = false;
    await publisher;
    // B's own clients: every tick, in order, none twice, never disconnected
    await waitUntil(() => local.every((l) => l.ticks.length >= sent), 5000, "every tick at B's clients");
    const all = Array.from({ length: sent }, (_, i) => i + 1);
    for (const l of local) {
      assert.deepEqual(l.ticks, all);
      assert.equal(l.closes, 0);
    }
    // what A's clients missed while they moved (no history on this topic: at most once, as Phoenix)
    const missed = viaLb.map((c) => sent - new Set(c.ticks).size);
    for (const c of viaLb) assert.equal(new Set(c.ticks).size, c.ticks.length, 'a tick delivered twice');
    t.diagnostic(
      `node kill: ${sent} ticks posted to B, ${ON_B} local clients lost 0; A's ${ON_A} sockets all rejoined on B ` +
        `${rejoinedMs} ms after the kill (ticks missed meanwhile: ${Math.min(...missed)}..${Math.max(...missed)} each); ` +
        `A's presence expired on B after ${expiredMs} ms (cluster expiry 1.5 s)`,
    );
    assert.ok(B.alive(), B.describe());
  });
});
