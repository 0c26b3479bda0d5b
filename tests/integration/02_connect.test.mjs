// 02 - connecting: token and vsn checks at the HTTP upgrade (403, no upgrade), the socket
// id topic users_socket:<token> ("disconnect" kicks every connection of that user with
// close code 1001), and heartbeats through phoenix.js.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { useServer } from './lib/harness.mjs';
import { joinOk, ping, push, waitChannelState, waitSocketClose } from './lib/phx.mjs';
import { handshakeStatus } from './lib/raw.mjs';
import { sleep, waitUntil } from './lib/util.mjs';

describe('connect', { timeout: 20_000 }, () => {
  const ctx = useServer();

  describe('handshake', () => {
    const cases = [
      ['token missing', { vsn: '2.0.0' }, 403],
      ['token "bad"', { token: 'bad', vsn: '2.0.0' }, 403],
      ['token "bad" without vsn', { token: 'bad' }, 403],
      ['vsn 3.0.0', { token: 'alice', vsn: '3.0.0' }, 403],
      ['vsn abc', { token: 'alice', vsn: 'abc' }, 403],
      ['vsn 2.0.0', { token: 'alice', vsn: '2.0.0' }, 101],
      ['vsn 1.0.0', { token: 'alice', vsn: '1.0.0' }, 101],
      ['vsn missing (V1)', { token: 'alice' }, 101],
    ];
    for (const [name, query, status] of cases) {
      test(`${name} -> ${status}`, async () => {
        const res = await handshakeStatus(ctx.server.wsUrl(query));
        assert.equal(res.status, status, `handshake ${JSON.stringify(query)}: ${res.error?.message ?? ''}`);
      });
    }

    test('vsn follows "~> 2.0.0" / "~> 1.0.0": 2.0.1 is V2, 1.0.9 is V1, 2.1.0 is refused', async () => {
      assert.equal((await handshakeStatus(ctx.server.wsUrl({ token: 'alice', vsn: '2.1.0' }))).status, 403);
      const v2 = await ctx.raw({ token: 'alice', vsn: '2.0.1' });
      v2.send([null, '1', 'phoenix', 'heartbeat', {}]);
      assert.deepEqual(await v2.next(), [null, '1', 'phoenix', 'phx_reply', { status: 'ok', response: {} }]);
      const v1 = await ctx.raw({ token: 'alice', vsn: '1.0.9' });
      v1.send({ topic: 'phoenix', event: 'heartbeat', payload: {}, ref: '1' });
      assert.deepEqual(await v1.next(), { topic: 'phoenix', event: 'phx_reply', payload: { status: 'ok', response: {} }, ref: '1' });
    });

    test('unknown extra query parameters are accepted', async () => {
      const res = await handshakeStatus(ctx.server.wsUrl({ token: 'alice', foo: 'bar', vsn: '2.0.0', 'a[b]': 'c' }));
      assert.equal(res.status, 101);
    });

    test('a refused raw client sees "Unexpected server response: 403"', async () => {
      await assert.rejects(ctx.raw({ token: 'bad', vsn: '2.0.0' }), (err) => {
        assert.equal(err.statusCode, 403);
        assert.match(err.message, /Unexpected server response: 403/);
        return true;
      });
    });
  });

  describe('websocket basics', () => {
    test('a client close 1000 is answered with a close frame (clean close)', async () => {
      const raw = await ctx.raw();
      raw.close(1000);
      const { code } = await raw.waitClose(3000);
      assert.equal(code, 1000);
    });

    test('WebSocket pings are answered with pongs carrying the same data', async () => {
      const raw = await ctx.raw();
      const pong = new Promise((resolve) => raw.ws.once('pong', (data) => resolve(data.toString())));
      raw.ws.ping('are-you-there');
      assert.equal(await Promise.race([pong, sleep(2000).then(() => 'no pong')]), 'are-you-there');
    });

    test('server frames are text frames', async () => {
      const raw = await ctx.raw();
      await raw.joinOk('room:text');
      await ctx.broadcast('room:text', 'e', {});
      await raw.expect((f) => Array.isArray(f) && f[3] === 'e');
      assert.deepEqual(raw.log.filter((f) => f.binary || f.text !== undefined), []);
    });
  });

  describe('phoenix.js', () => {
    test('connects with a token and gets heartbeat replies', async () => {
      const socket = await ctx.phx({ token: 'alice' });
      assert.equal(socket.connectionState(), 'open');
      for (let i = 0; i < 3; i++) assert.ok((await ping(socket)) >= 0);
    });

    test('with token "bad" fires onError with the 403 and keeps retrying', async () => {
      const socket = ctx.socket({ token: 'bad', reconnectAfterMs: () => 20 });
      const errors = [];
      let opened = false;
      socket.onError((err) => errors.push(err));
      socket.onOpen(() => (opened = true));
      socket.connect();
      await waitUntil(() => errors.length >= 3, 5000, 'three failed connection attempts');
      assert.equal(opened, false);
      assert.match(String(errors[0]?.message ?? errors[0]?.error?.message), /403/);
    });

    test('heartbeats every 200 ms keep being answered (no heartbeat timeout)', async () => {
      const socket = await ctx.phx({ heartbeatIntervalMs: 200 });
      let closed = false;
      socket.onClose(() => (closed = true));
      await sleep(1000);
      assert.equal(closed, false, 'phoenix.js closes the socket when a heartbeat goes unanswered');
      assert.equal(socket.connectionState(), 'open');
    });
  });

  describe('socket id users_socket:<token>', () => {
    test('"disconnect" closes every connection of that user with 1001, others unaffected', async () => {
      const alice1 = await ctx.raw({ token: 'alice', vsn: '2.0.0' });
      const alice2 = await ctx.raw({ token: 'alice', vsn: '2.0.0' });
      const alice3 = await ctx.raw({ token: 'alice' }); // a V1 connection of the same user
      const bob = await ctx.raw({ token: 'bob', vsn: '2.0.0' });
      await alice1.joinOk('room:kick');
      const bobJoinRef = await bob.joinOk('room:kick');

      const res = await ctx.broadcast('users_socket:alice', 'disconnect', {});
      assert.equal(res.status, 202, res.text);

      for (const [name, c] of [['alice1', alice1], ['alice2', alice2], ['alice3', alice3]]) {
        const { code } = await c.waitClose(3000);
        assert.equal(code, 1001, `${name} close code`);
      }
      // No phx_close / phx_error frames before the close.
      assert.deepEqual(alice1.queue, [], 'alice1 got frames before the close');

      await sleep(200);
      assert.ok(bob.isOpen, 'bob must stay connected');
      const reply = await bob.call('phoenix', 'heartbeat', {});
      assert.equal(reply[4].status, 'ok');
      const pong = await bob.call('room:kick', 'ping', { still: 'here' }, { joinRef: bobJoinRef });
      assert.deepEqual(pong[4], { status: 'ok', response: { still: 'here' } });
    });

    test('other events on the socket id topic are ignored', async () => {
      const alice = await ctx.raw({ token: 'alice', vsn: '2.0.0' });
      const jr = await alice.joinOk('room:ignored');
      const res = await ctx.broadcast('users_socket:alice', 'something_else', { a: 1 });
      assert.equal(res.status, 202, res.text);
      const frames = await alice.collectFor(300);
      assert.deepEqual(frames, [], 'the socket id topic is not a channel: nothing is delivered');
      assert.ok(alice.isOpen);
      const reply = await alice.call('room:ignored', 'ping', {}, { joinRef: jr });
      assert.equal(reply[4].status, 'ok');
    });

    test('a URL-encoded token is decoded before it names the socket id', async () => {
      const token = 'dä vid+1&x';
      const raw = await ctx.raw({ token, vsn: '2.0.0' });
      const other = await ctx.raw({ token: 'dä', vsn: '2.0.0' });
      assert.equal((await ctx.broadcast(`users_socket:${token}`, 'disconnect', {})).status, 202);
      assert.equal((await raw.waitClose(3000)).code, 1001);
      await sleep(200);
      assert.ok(other.isOpen, 'a different user must not be kicked');
    });

    test('phoenix.js reconnects and rejoins after a disconnect kick', async () => {
      const socket = await ctx.phx({ token: 'carol', reconnectAfterMs: () => 50 });
      const channel = socket.channel('room:comeback');
      await joinOk(channel);
      const firstJoinRef = channel.joinRef();
      const closed = waitSocketClose(socket, 3000);

      await ctx.broadcast('users_socket:carol', 'disconnect', {});
      const ev = await closed;
      assert.equal(ev.code, 1001);

      await waitUntil(() => channel.state === 'joined' && channel.joinRef() !== firstJoinRef, 5000, 'rejoin after reconnect');
      await waitChannelState(channel, 'joined');
      const reply = await push(channel, 'ping', { n: 1 });
      assert.deepEqual(reply, { status: 'ok', response: { n: 1 } });
    });
  });
});
