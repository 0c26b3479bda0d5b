// phoenix.js in Node: a Socket factory using `ws` as the transport, and promise wrappers
// around its callback API. Every wrapper is bounded by a timeout.

import { Socket } from 'phoenix';
import WebSocket from 'ws';

import { withTimeout, sleep } from './util.mjs';

/** Serializer options phoenix.js needs to speak V1 (object frames); see PROTOCOL.md 5. */
export const V1_CODEC = {
  vsn: '1.0.0',
  encode: (msg, cb) => cb(JSON.stringify(msg)),
  decode: (raw, cb) => cb(JSON.parse(raw)),
};

/**
 * A phoenix.js Socket for `server` (not yet connected). Options are passed to the Socket;
 * `token` (default "alice") goes into params unless `params` is given. Timeouts default
 * short so nothing in a test waits 10 s.
 */
export function makeSocket(server, { token = 'alice', params, ...opts } = {}) {
  return new Socket(server.socketUrl, {
    transport: WebSocket,
    params: params ?? (token === undefined ? {} : { token }),
    timeout: 3000,
    reconnectAfterMs: () => 50,
    rejoinAfterMs: () => 100,
    ...opts,
  });
}

/** Connects `socket` and resolves once it is open; rejects on error or timeout. */
export function connect(socket, ms = 5000) {
  let refs = [];
  const opened = new Promise((resolve, reject) => {
    refs.push(socket.onOpen(() => resolve(socket)));
    refs.push(socket.onError((err) => reject(new Error(`socket error: ${err?.message || err}`))));
  });
  socket.connect();
  return withTimeout(opened, ms, 'phoenix socket to open').finally(() => socket.off(refs));
}

/** Disconnects cleanly; resolves when the transport is closed (bounded). */
export async function disconnect(socket, ms = 2000) {
  const conn = socket.conn;
  await withTimeout(new Promise((resolve) => socket.disconnect(resolve)), ms, 'socket disconnect').catch(() => {});
  // If the close handshake did not finish in time, do not leave the TCP connection behind.
  if (conn && conn.readyState !== WebSocket.CLOSED && typeof conn.terminate === 'function') conn.terminate();
}

/** Resolves {status, response} for a Push: "ok", "error", or any other status; "timeout" too. */
export function pushResult(push, ms = 5000) {
  const result = new Promise((resolve) => {
    for (const status of ['ok', 'error', 'timeout']) {
      push.receive(status, (response) => resolve({ status, response }));
    }
  });
  return withTimeout(result, ms, `reply to ${push.event}`);
}

/** Joins `channel` and resolves {status, response} of the first join reply. */
export function join(channel, ms = 5000) {
  return pushResult(channel.join(), ms);
}

/** Joins and asserts the reply is ok; resolves the response. */
export async function joinOk(channel, ms = 5000) {
  const reply = await join(channel, ms);
  if (reply.status !== 'ok') throw new Error(`join ${channel.topic} failed: ${JSON.stringify(reply)}`);
  return reply.response;
}

/** channel.push(...) and resolve {status, response} ("timeout" after `pushTimeout`). */
export function push(channel, event, payload = {}, pushTimeout = 3000) {
  return pushResult(channel.push(event, payload, pushTimeout), pushTimeout + 2000);
}

/** Resolves the payload of the next `event` on `channel` that matches `filter`. */
export function waitFor(channel, event, { timeout = 3000, filter = () => true } = {}) {
  let ref;
  const got = new Promise((resolve) => {
    ref = channel.on(event, (payload, msgRef, joinRef) => {
      if (filter(payload)) resolve(payload);
    });
  });
  return withTimeout(got, timeout, `event ${event} on ${channel.topic}`).finally(() => channel.off(event, ref));
}

/** Collects every `event` payload on `channel` into the returned array (until stop()). */
export function collect(channel, event) {
  const items = [];
  const ref = channel.on(event, (payload) => items.push(payload));
  items.stop = () => channel.off(event, ref);
  return items;
}

/** Resolves the socket's next close event ({code, reason, ...}). */
export function waitSocketClose(socket, ms = 3000) {
  let ref;
  const closed = new Promise((resolve) => {
    ref = socket.onClose((ev) => resolve(ev));
  });
  return withTimeout(closed, ms, 'socket close').finally(() => socket.off([ref]));
}

/** Waits until the channel is in state `state` (joined, closed, errored, ...). */
export async function waitChannelState(channel, state, ms = 3000) {
  const deadline = Date.now() + ms;
  while (channel.state !== state) {
    if (Date.now() > deadline) throw new Error(`channel ${channel.topic} state is ${channel.state}, wanted ${state} after ${ms} ms`);
    await sleep(10);
  }
}

/** Socket-level heartbeat round trip (socket.ping); resolves the RTT in ms. */
export function ping(socket, ms = 3000) {
  return withTimeout(
    new Promise((resolve, reject) => {
      if (!socket.ping(resolve)) reject(new Error('socket not connected'));
    }),
    ms,
    'heartbeat reply',
  );
}
