// presenceList: a live, sorted list over phoenix.js's Presence, with joined/left per sync.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { createSocket, joinChannel, presenceList } from '../src/index.js';
import { Cinder, waitUntil } from './lib/cinder.js';

describe('presenceList', { timeout: 30_000 }, () => {
  const server = new Cinder();
  const sockets = [];
  const connect = async (token) => {
    const s = createSocket(server.httpUrl, { token, timeout: 2000 });
    sockets.push(s);
    await waitUntil(() => s.isConnected(), 3000, `${token} connected`);
    return s;
  };
  before(() => server.start());
  after(async () => {
    for (const s of sockets) s.disconnect();
    await server.stop();
  });

  test('lists everyone, sorted, and reports who joined and left', async () => {
    const topic = 'room:presence-list';
    const alice = (await connect('alice')).channel(topic);
    const viewers = presenceList(alice);
    const changes = [];
    viewers.onChange((list, change) => changes.push({ ids: list.map((e) => e.id), ...change }));
    await joinChannel(alice);
    await waitUntil(() => viewers.size === 1, 2000, 'alice present');

    const bobSocket = await connect('bob');
    const bob = bobSocket.channel(topic);
    await joinChannel(bob);
    const zed = (await connect('zed')).channel(topic);
    await joinChannel(zed);
    await waitUntil(() => viewers.size === 3, 2000, 'three present');
    assert.deepEqual(
      viewers.list().map((e) => e.id),
      ['alice', 'bob', 'zed'],
    );
    assert.ok(changes.some((c) => c.joined.includes('bob')));
    const entry = viewers.list()[1];
    assert.equal(entry.metas.length, 1);
    assert.equal(typeof entry.metas[0].phx_ref, 'string');
    assert.equal(typeof entry.metas[0].online_at, 'number');

    // A second connection of bob: still one entry, two metas, nobody "joined".
    const bob2 = (await connect('bob')).channel(topic);
    const before = changes.length;
    await joinChannel(bob2);
    await waitUntil(() => viewers.list()[1].metas.length === 2, 2000, 'two metas for bob');
    assert.ok(changes.slice(before).every((c) => c.joined.length === 0));

    // bob leaves on one connection (still present), then closes the other (gone).
    bob2.leave();
    await waitUntil(() => viewers.list()[1]?.metas.length === 1, 2000, 'one meta for bob');
    assert.equal(viewers.size, 3);
    bobSocket.disconnect();
    await waitUntil(() => changes.at(-1).left.includes('bob'), 2000, 'bob left');
    assert.deepEqual(changes.at(-1).ids, ['alice', 'zed']);
  });

  test('onChange returns an unsubscribe; destroy stops every listener', async () => {
    const ch = (await connect('solo')).channel('room:presence-solo');
    const viewers = presenceList(ch);
    let a = 0;
    let b = 0;
    const offA = viewers.onChange(() => a++);
    viewers.onChange(() => b++);
    offA();
    await joinChannel(ch);
    await waitUntil(() => b > 0, 2000, 'a sync');
    assert.equal(a, 0);
    viewers.destroy();
    const seen = b;
    const other = (await connect('other')).channel('room:presence-solo');
    await joinChannel(other);
    await waitUntil(() => viewers.size === 2, 2000, 'other present');
    assert.equal(b, seen);
  });
});
