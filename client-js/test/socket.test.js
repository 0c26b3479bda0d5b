// createSocket, endpointUrl, watchConnection against a real cinder (Node: no global WebSocket, so `ws`).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { createSocket, endpointUrl, watchConnection } from '../src/index.js';
import { Cinder, waitUntil } from './lib/cinder.js';

test('endpointUrl: http becomes ws, a bare origin gets /socket, /websocket is dropped', () => {
  assert.equal(endpointUrl('http://127.0.0.1:4000'), 'ws://127.0.0.1:4000/socket');
  assert.equal(endpointUrl('https://example.test/'), 'wss://example.test/socket');
  assert.equal(endpointUrl('ws://127.0.0.1:4000/socket'), 'ws://127.0.0.1:4000/socket');
  assert.equal(endpointUrl('ws://127.0.0.1:4000/socket/websocket'), 'ws://127.0.0.1:4000/socket');
  assert.equal(endpointUrl(new URL('http://h:1/live/socket/')), 'ws://h:1/live/socket');
  assert.throws(() => endpointUrl('ftp://h/'), /unsupported URL scheme/);
});

describe('createSocket', { timeout: 30_000 }, () => {
  const server = new Cinder();
  const sockets = [];
  const open = (opts) => {
    const s = createSocket(server.httpUrl, { reconnectAfterMs: () => 50, timeout: 2000, ...opts });
    sockets.push(s);
    return s;
  };
  before(() => server.start());
  after(async () => {
    for (const s of sockets) s.disconnect();
    await server.stop();
  });

  test('connects from Node (ws, or a global WebSocket) with the token as a param', async () => {
    const socket = open({ token: 'alice' });
    const { WebSocket: NodeWebSocket } = await import('ws');
    assert.equal(socket.transport, globalThis.WebSocket ?? NodeWebSocket, 'the global WebSocket, else ws');
    await waitUntil(() => socket.isConnected(), 3000, 'socket open');
    assert.match(socket.endPointURL(), /\/socket\/websocket\?token=alice&vsn=2\.0\.0$/);
  });

  test('token merges into params; connect: false leaves it unconnected', async () => {
    const socket = open({ token: 'bob', params: { room: 'x' }, connect: false });
    assert.equal(socket.isConnected(), false);
    assert.match(socket.endPointURL(), /room=x&token=bob/);
    socket.connect();
    await waitUntil(() => socket.isConnected(), 3000, 'socket open');
  });

  test('watchConnection: connecting, open, reconnecting across a restart, open, closed', async () => {
    const socket = open({ token: 'carol', connect: false });
    const seen = [];
    const stop = watchConnection(socket, (s) => seen.push(s));
    assert.deepEqual(seen, [{ state: 'connecting', attempts: 0 }]);
    socket.connect();
    await waitUntil(() => seen.at(-1).state === 'open', 3000, 'open');
    await server.stop();
    await waitUntil(() => seen.at(-1).state === 'reconnecting' && seen.at(-1).attempts >= 2, 3000, 'reconnect attempts');
    await server.start();
    await waitUntil(() => seen.at(-1).state === 'open', 5000, 'open again');
    assert.equal(seen.at(-1).attempts, 0);
    socket.disconnect();
    await waitUntil(() => seen.at(-1).state === 'closed', 3000, 'closed');
    stop();
    const n = seen.length;
    socket.connect();
    await waitUntil(() => socket.isConnected(), 3000, 'socket open');
    assert.equal(seen.length, n, 'no calls after stop()');
  });

  test('a refused connect (token "bad") never opens', async () => {
    const socket = open({ token: 'bad' });
    const seen = [];
    watchConnection(socket, (s) => seen.push(s.state));
    await waitUntil(() => seen.filter((s) => s === 'reconnecting').length >= 2, 3000, 'retries');
    assert.ok(!seen.includes('open'));
  });
});
