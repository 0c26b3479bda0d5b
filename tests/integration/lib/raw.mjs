// A raw `ws` client for wire-level assertions phoenix.js hides: it sends exactly the
// frames it is given and records exactly the frames and close code it receives.
//
// Received frames go into `log` (everything) and into a pending queue that expect()
// consumes. Presence frames (presence_state / presence_diff) are logged but never queued:
// presence is not part of what these tests check.

import net from 'node:net';
import WebSocket from 'ws';

import { deferred, withTimeout, sleep } from './util.mjs';

const PRESENCE_EVENTS = new Set(['presence_state', 'presence_diff']);

function eventOf(frame) {
  if (Array.isArray(frame)) return frame[3];
  if (frame && typeof frame === 'object') return frame.event;
  return undefined;
}

function show(frame) {
  if (frame && frame.binary) return `<binary ${frame.binary.toString('hex').slice(0, 64)}>`;
  const s = JSON.stringify(frame);
  return s.length > 300 ? `${s.slice(0, 300)}...` : s;
}

export class RawClient {
  /**
   * Opens a WebSocket to `url` and resolves once open. Rejects with err.statusCode set if
   * the server refuses the upgrade.
   */
  static open(url, { timeout = 5000 } = {}) {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const client = new RawClient(ws);
    const opened = new Promise((resolve, reject) => {
      ws.once('open', () => resolve(client));
      ws.once('unexpected-response', (req, res) => {
        const err = new Error(`Unexpected server response: ${res.statusCode}`);
        err.statusCode = res.statusCode;
        ws.terminate();
        reject(err);
      });
      ws.once('error', reject);
    });
    return withTimeout(opened, timeout, `WebSocket open ${url}`).catch((err) => {
      ws.terminate();
      throw err;
    });
  }

  constructor(ws) {
    this.ws = ws;
    this.log = []; // every frame received, in order (parsed JSON, {text} or {binary})
    this.queue = []; // frames not yet consumed by expect()
    this.waiters = [];
    this.ref = 0;
    this.closeInfo = null;
    const closed = deferred();
    this.closed = closed.promise; // resolves {code, reason}
    ws.on('message', (data, isBinary) => this._onFrame(data, isBinary));
    ws.on('error', (err) => {
      this.error = err;
    });
    ws.on('close', (code, reason) => {
      this.closeInfo = { code, reason: reason.toString() };
      for (const w of this.waiters.splice(0)) {
        w.reject(new Error(`connection closed (code ${code}) while waiting for ${w.label}; pending: ${this.pending()}`));
      }
      closed.resolve(this.closeInfo);
    });
  }

  _onFrame(data, isBinary) {
    let frame;
    if (isBinary) {
      frame = { binary: Buffer.from(data) };
    } else {
      const text = data.toString('utf8');
      try {
        frame = JSON.parse(text);
      } catch {
        frame = { text };
      }
    }
    this.log.push(frame);
    if (PRESENCE_EVENTS.has(eventOf(frame))) return;
    const i = this.waiters.findIndex((w) => w.pred(frame));
    if (i >= 0) {
      const [w] = this.waiters.splice(i, 1);
      w.resolve(frame);
    } else {
      this.queue.push(frame);
    }
  }

  /** A fresh decimal-string ref, like phoenix.js makes. */
  nextRef() {
    this.ref += 1;
    return String(this.ref);
  }

  get isOpen() {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Sends a JS value as a JSON text frame, a string as a text frame, a Buffer as binary. */
  send(value, opts = {}) {
    if (Buffer.isBuffer(value)) this.ws.send(value, { binary: true, ...opts });
    else if (typeof value === 'string') this.ws.send(value, { binary: false, ...opts });
    else this.ws.send(JSON.stringify(value), { binary: false, ...opts });
  }

  /** Sends raw bytes in a *text* frame (for invalid UTF-8 tests). */
  sendTextBytes(buf) {
    this.ws.send(buf, { binary: false });
  }

  pending() {
    return `[${this.queue.map(show).join(', ')}]`;
  }

  /**
   * Resolves (and consumes) the first pending or future frame matching `pred`.
   * Rejects on timeout or close, listing what was received instead.
   */
  expect(pred, timeout = 3000, label = 'a matching frame') {
    const i = this.queue.findIndex(pred);
    if (i >= 0) return Promise.resolve(this.queue.splice(i, 1)[0]);
    if (this.closeInfo) {
      return Promise.reject(new Error(`connection already closed (code ${this.closeInfo.code}); wanted ${label}; pending: ${this.pending()}`));
    }
    const d = deferred();
    const waiter = { pred, label, resolve: d.resolve, reject: d.reject };
    this.waiters.push(waiter);
    let timer;
    const timed = new Promise((_, reject) => {
      timer = setTimeout(() => {
        const j = this.waiters.indexOf(waiter);
        if (j >= 0) this.waiters.splice(j, 1);
        reject(new Error(`timed out after ${timeout} ms waiting for ${label}; pending: ${this.pending()}`));
      }, timeout);
    });
    return Promise.race([d.promise, timed]).finally(() => clearTimeout(timer));
  }

  /** Next pending/future frame, whatever it is. */
  next(timeout = 3000) {
    return this.expect(() => true, timeout, 'any frame');
  }

  /** Waits `ms` and returns the pending frames matching `pred` (consuming them). */
  async collectFor(ms, pred = () => true) {
    await sleep(ms);
    const out = [];
    this.queue = this.queue.filter((f) => {
      if (pred(f)) {
        out.push(f);
        return false;
      }
      return true;
    });
    return out;
  }

  /** V2: the reply frame for `ref` on `topic`. */
  expectReply(topic, ref, timeout = 3000) {
    return this.expect(
      (f) => Array.isArray(f) && f[1] === ref && f[2] === topic && f[3] === 'phx_reply',
      timeout,
      `phx_reply ref=${JSON.stringify(ref)} on ${topic}`,
    );
  }

  /** V2: sends [joinRef, ref, topic, event, payload] and resolves the reply frame. */
  async call(topic, event, payload = {}, { joinRef = null, ref = this.nextRef(), timeout = 3000 } = {}) {
    this.send([joinRef, ref, topic, event, payload]);
    return this.expectReply(topic, ref, timeout);
  }

  /** V2: joins `topic` with a fresh join_ref (== ref, like phoenix.js); resolves {joinRef, reply}. */
  async join(topic, payload = {}, { timeout = 3000 } = {}) {
    const joinRef = this.nextRef();
    const reply = await this.call(topic, 'phx_join', payload, { joinRef, ref: joinRef, timeout });
    return { joinRef, reply };
  }

  /** V2: joins and asserts an ok reply; resolves the join_ref. */
  async joinOk(topic, payload = {}) {
    const { joinRef, reply } = await this.join(topic, payload);
    const okReply = [joinRef, joinRef, topic, 'phx_reply', { status: 'ok', response: {} }];
    if (JSON.stringify(reply) !== JSON.stringify(okReply)) {
      throw new Error(`join ${topic}: expected ${JSON.stringify(okReply)}, got ${JSON.stringify(reply)}`);
    }
    return joinRef;
  }

  /** Resolves {code, reason} once the connection has closed (bounded). */
  waitClose(timeout = 3000) {
    return withTimeout(this.closed, timeout, 'the connection to close');
  }

  close(code = 1000) {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close(code);
  }

  terminate() {
    this.ws.terminate();
  }
}

/**
 * Attempts a WebSocket handshake and resolves the HTTP status: 101 when it upgraded,
 * otherwise the status of the refusal (or null with `error` on a network failure).
 */
export function handshakeStatus(url, timeout = 3000) {
  return withTimeout(
    new Promise((resolve) => {
      const ws = new WebSocket(url);
      ws.once('open', () => {
        resolve({ status: 101 });
        ws.terminate();
      });
      ws.once('unexpected-response', (req, res) => {
        resolve({ status: res.statusCode, headers: res.headers });
        ws.terminate();
      });
      ws.on('error', (error) => resolve({ status: null, error }));
    }),
    timeout,
    `handshake ${url}`,
  );
}

/**
 * A bare TCP connection that performs the WebSocket upgrade by hand; used to send
 * half-written frames and then vanish. Resolves the connected net.Socket after the 101.
 */
export function rawUpgrade(port, path, timeout = 3000) {
  return withTimeout(
    new Promise((resolve, reject) => {
      const sock = net.connect({ host: '127.0.0.1', port });
      let buf = '';
      sock.once('connect', () => {
        sock.write(
          `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
            'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
        );
      });
      sock.on('data', (d) => {
        buf += d.toString('latin1');
        if (buf.includes('\r\n\r\n')) {
          sock.removeAllListeners('data');
          if (/^HTTP\/1\.1 101/.test(buf)) resolve(sock);
          else {
            sock.destroy();
            reject(new Error(`upgrade refused: ${buf.split('\r\n')[0]}`));
          }
        }
      });
      sock.on('error', reject);
    }),
    timeout,
    'raw upgrade',
  );
}

/** A masked client->server WebSocket frame (RFC 6455), with an explicit opcode and FIN. */
export function encodeClientFrame(payload, { opcode = 1, fin = true } = {}) {
  const body = Buffer.from(payload);
  const mask = Buffer.from([0x12, 0x34, 0x56, 0x78]);
  let header;
  if (body.length < 126) {
    header = Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | body.length]);
  } else if (body.length < 65536) {
    header = Buffer.alloc(4);
    header[0] = (fin ? 0x80 : 0) | opcode;
    header[1] = 0x80 | 126;
    header.writeUInt16BE(body.length, 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = (fin ? 0x80 : 0) | opcode;
    header[1] = 0x80 | 127;
    header.writeBigUInt64BE(BigInt(body.length), 2);
  }
  const masked = Buffer.alloc(body.length);
  for (let i = 0; i < body.length; i++) masked[i] = body[i] ^ mask[i % 4];
  return Buffer.concat([header, mask, masked]);
}
