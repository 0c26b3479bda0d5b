// 12 - presence (PROTOCOL.md 8) through phoenix.js's own Presence: two users sync, the same user on
// two sockets is one key with two metas, and leaves (leave, abrupt TCP close) reach the others.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { Presence } from 'phoenix';

import { useServer } from './lib/harness.mjs';
import { joinOk } from './lib/phx.mjs';
import { waitUntil } from './lib/util.mjs';

/** A joined channel with a phoenix.js Presence; `users()` lists key -> number of metas. */
async function presenceOn(ctx, token, topic) {
  const socket = await ctx.phx({ token });
  const channel = socket.channel(topic);
  const presence = new Presence(channel);
  const joins = [];
  const leaves = [];
  presence.onJoin((key, current, added) => joins.push({ key, metas: added.metas }));
  presence.onLeave((key, current, left) => leaves.push({ key, metas: left.metas }));
  await joinOk(channel);
  const users = () => Object.fromEntries(presence.list((key, { metas }) => [key, metas.length]));
  return { socket, channel, presence, users, joins, leaves };
}

describe('presence', { timeout: 30_000 }, () => {
  const ctx = useServer();

  test('two users see each other; a leave reaches the other', async () => {
    const alice = await presenceOn(ctx, 'alice', 'room:p1');
    await waitUntil(() => alice.users().alice === 1, 3000, 'alice sees herself');
    const bob = await presenceOn(ctx, 'bob', 'room:p1');
    await waitUntil(() => bob.users().alice === 1 && bob.users().bob === 1, 3000, 'bob sees both');
    await waitUntil(() => alice.users().bob === 1, 3000, 'alice sees bob');

    const meta = alice.presence.state.bob.metas[0];
    assert.equal(typeof meta.online_at, 'number');
    assert.match(meta.phx_ref, /^[A-Za-z0-9_-]{16}$/);

    bob.channel.leave();
    await waitUntil(() => alice.users().bob === undefined, 3000, 'bob left for alice');
    assert.deepEqual(alice.users(), { alice: 1 });
    assert.ok(alice.leaves.some((l) => l.key === 'bob' && l.metas[0].phx_ref === meta.phx_ref));
  });

  test('the same user on two sockets is one key with two metas', async () => {
    const tab1 = await presenceOn(ctx, 'carol', 'room:p2');
    const tab2 = await presenceOn(ctx, 'carol', 'room:p2');
    const watcher = await presenceOn(ctx, 'dave', 'room:p2');
    await waitUntil(() => watcher.users().carol === 2, 3000, 'two metas under carol');
    const refs = watcher.presence.state.carol.metas.map((m) => m.phx_ref);
    assert.notEqual(refs[0], refs[1]);
    tab1.socket.disconnect();
    await waitUntil(() => watcher.users().carol === 1, 3000, 'one tab left');
    assert.equal(tab2.users().carol, 1);
  });

  test('an abrupt TCP close produces a leave', async () => {
    const eve = await presenceOn(ctx, 'eve', 'room:p3');
    const frank = await presenceOn(ctx, 'frank', 'room:p3');
    await waitUntil(() => frank.users().eve === 1, 3000, 'frank sees eve');
    eve.socket.conn._socket.destroy(); // no close handshake
    await waitUntil(() => frank.users().eve === undefined, 5000, 'eve left after her TCP connection died');
  });

  test('a crashed channel leaves and its rejoin joins again with a new phx_ref', async () => {
    const gina = await presenceOn(ctx, 'gina', 'room:p4');
    const hal = await presenceOn(ctx, 'hal', 'room:p4');
    await waitUntil(() => hal.users().gina === 1, 3000, 'hal sees gina');
    const before = hal.presence.state.gina.metas[0].phx_ref;
    gina.channel.push('crash', {});
    await waitUntil(() => hal.leaves.some((l) => l.key === 'gina'), 3000, 'crash leave');
    await waitUntil(() => hal.users().gina === 1 && hal.presence.state.gina.metas[0].phx_ref !== before, 5000, 'rejoined');
  });
});
