// createSocket: a phoenix.js Socket for a Cinder (or Phoenix) endpoint that works the same in a browser
// and in Node. In the browser it uses the global WebSocket; in Node, where there is none before
// Node 22, it uses the `ws` package. The socket is the official one: everything phoenix.js documents
// (channels, Presence, reconnects, heartbeats) applies unchanged.

import { Socket } from 'phoenix';

/** @type {any} */
const NodeWebSocket = globalThis.WebSocket ? null : (await import('ws')).WebSocket;

/**
 * The phoenix endpoint for `url`: http(s):// becomes ws(s)://, a bare origin gets `/socket`, and a
 * trailing `/websocket` (the transport's own path, which phoenix.js appends) is dropped.
 * @param {string | URL} url
 * @returns {string}
 */
export function endpointUrl(url) {
  const u = new URL(String(url));
  if (u.protocol === 'http:') u.protocol = 'ws:';
  else if (u.protocol === 'https:') u.protocol = 'wss:';
  else if (u.protocol !== 'ws:' && u.protocol !== 'wss:') throw new TypeError(`unsupported URL scheme in ${url}`);
  let path = u.pathname.replace(/\/+$/, '');
  if (path.endsWith('/websocket')) path = path.slice(0, -'/websocket'.length);
  if (path === '') path = '/socket';
  return `${u.protocol}//${u.host}${path}`;
}

/**
 * A phoenix.js Socket for `url` (e.g. `http://localhost:4000` or `ws://localhost:4000/socket`),
 * connected unless `opts.connect === false`.
 *
 * Options are phoenix.js's Socket options plus:
 * - `token`: shorthand for `params: {token}` (merged into `params` when both are given);
 * - `connect`: false to call `socket.connect()` yourself.
 * `transport` defaults to the global WebSocket, or `ws` in Node.
 *
 * @param {string | URL} url
 * @param {import('../index.js').CreateSocketOptions} [opts]
 * @returns {import('phoenix').Socket}
 */
export function createSocket(url, opts = {}) {
  const { token, connect = true, params, ...rest } = opts;
  /** @type {Record<string, any>} */
  let merged = typeof params === 'function' ? params() : { ...(params || {}) };
  if (token !== undefined) merged = { ...merged, token };
  const transport = rest.transport || globalThis.WebSocket || NodeWebSocket;
  const socket = new Socket(endpointUrl(url), { ...rest, transport, params: merged });
  if (connect) socket.connect();
  return socket;
}

/**
 * Follows a socket's connection: `onChange({state, attempts})` is called now and on every change.
 * `state` is `connecting` (before the first open), `open`, `reconnecting` (closed, phoenix.js will retry;
 * `attempts` counts the closes since the last open) or `closed` (socket.disconnect() was called).
 * Returns a function that stops watching.
 *
 * @param {import('phoenix').Socket} socket
 * @param {(status: import('../index.js').ConnectionStatus) => void} onChange
 * @returns {() => void}
 */
export function watchConnection(socket, onChange) {
  let attempts = 0;
  const emit = (/** @type {import('../index.js').ConnectionState} */ state) => onChange({ state, attempts });
  const refs = [
    socket.onOpen(() => {
      attempts = 0;
      emit('open');
    }),
    socket.onClose(() => {
      // phoenix.js sets closeWasClean when the app called disconnect(): it will not reconnect.
      if (/** @type {any} */ (socket).closeWasClean) {
        emit('closed');
      } else {
        attempts += 1;
        emit('reconnecting');
      }
    }),
  ];
  emit(socket.isConnected() ? 'open' : 'connecting');
  return () => socket.off(refs);
}
