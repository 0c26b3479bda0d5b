// One call per test file (or describe block): useServer(args) starts a cinder process
// before the tests, stops it after them, and after every test closes every client the
// test opened through the returned context. Tests never clean up by hand.
//
//   const ctx = useServer(['--max-channels', '3']);
//   test('...', async () => {
//     const sock = await ctx.phx({ token: 'bob' });   // connected phoenix.js Socket
//     const raw = await ctx.raw();                     // open RawClient (V2, token alice)
//     await ctx.broadcast('room:1', 'shout', { x: 1 });
//   });

import { after, afterEach, before } from 'node:test';

import { broadcast, request } from './http.mjs';
import { connect, disconnect, makeSocket } from './phx.mjs';
import { RawClient } from './raw.mjs';
import { CinderServer } from './server.mjs';

export function useServer(args = [], opts = {}) {
  const sockets = new Set();
  const raws = new Set();
  const server = new CinderServer(args, opts);

  const ctx = {
    server,
    get port() {
      return server.port;
    },

    /** A phoenix.js Socket, tracked for cleanup, not yet connected. */
    socket(opts = {}) {
      const s = makeSocket(server, opts);
      sockets.add(s);
      return s;
    },

    /** A connected phoenix.js Socket. */
    async phx(opts = {}) {
      return connect(ctx.socket(opts));
    },

    /** An open RawClient; `query` defaults to {token: "alice", vsn: "2.0.0"}. */
    async raw(query = { token: 'alice', vsn: '2.0.0' }, opts = {}) {
      const client = await RawClient.open(server.wsUrl(query), opts);
      raws.add(client);
      return client;
    },

    track(client) {
      raws.add(client);
      return client;
    },

    broadcast(topic, event, payload, opts) {
      return broadcast(server.port, topic, event, payload, opts);
    },

    request(opts) {
      return request(server.port, opts);
    },

    async cleanupClients() {
      const all = [...sockets].map((s) => disconnect(s));
      sockets.clear();
      for (const r of raws) r.terminate();
      raws.clear();
      await Promise.all(all);
    },
  };

  before(async () => {
    await server.start();
  });

  afterEach(async () => {
    await ctx.cleanupClients();
  });

  after(async () => {
    await ctx.cleanupClients();
    await server.stop();
  });

  return ctx;
}
