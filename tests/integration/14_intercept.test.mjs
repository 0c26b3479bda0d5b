// 14 - intercepts (handle_out): the demo room's "tagged" event is rewritten for each subscriber
// and dropped for the skipped one, while ordinary broadcasts stay on the encode-once path.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { useServer } from './lib/harness.mjs';
import { collect, joinOk, push, waitFor } from './lib/phx.mjs';
import { sleep } from './lib/util.mjs';

describe('intercepted events', { timeout: 30_000 }, () => {
  const ctx = useServer();

  test('shout_tagged reaches each subscriber rewritten, the skipped user gets nothing', async () => {
    const chans = {};
    for (const user of ['ann', 'ben', 'cat']) {
      const socket = await ctx.phx({ token: user });
      chans[user] = socket.channel('room:tags');
      await joinOk(chans[user]);
    }
    const annGot = waitFor(chans.ann, 'tagged');
    const benGot = waitFor(chans.ben, 'tagged');
    const catGot = collect(chans.cat, 'tagged');
    assert.equal((await push(chans.ann, 'shout_tagged', { m: 1, skip: 'cat' })).status, 'ok');
    assert.deepEqual(await annGot, { m: 1, skip: 'cat', to: 'ann' });
    assert.deepEqual(await benGot, { m: 1, skip: 'cat', to: 'ben' });
    await sleep(200);
    assert.deepEqual([...catGot], []);
  });

  test('intercepted pushes carry the channel join_ref, plain shouts stay broadcasts', async () => {
    const raw = await ctx.raw({ token: 'dan', vsn: '2.0.0' });
    const jr = await raw.joinOk('room:tags2');
    await raw.call('room:tags2', 'shout_tagged', { n: 2 }, { joinRef: jr });
    const tagged = await raw.expect((f) => Array.isArray(f) && f[3] === 'tagged');
    assert.deepEqual(tagged, [jr, null, 'room:tags2', 'tagged', { n: 2, to: 'dan' }]);
    await raw.call('room:tags2', 'shout', { n: 3 }, { joinRef: jr });
    const shout = await raw.expect((f) => Array.isArray(f) && f[3] === 'shout');
    assert.deepEqual(shout, [null, null, 'room:tags2', 'shout', { n: 3 }]);
  });
});
