// Plain HTTP requests to the server (the backend publish API). Uses node:http rather than
// fetch so a server that answers early (413) and closes is still read correctly.

import http from 'node:http';
import net from 'node:net';

import { HOST } from './server.mjs';

/**
 * Sends one request and resolves {status, headers, text, json} (json is undefined when
 * the body does not parse). `body` may be a string, a Buffer, or any other value (sent as
 * JSON). Never keeps the connection alive; bounded by `timeout`.
 */
export function request(port, { method = 'POST', path = '/api/broadcast', body, headers = {}, timeout = 5000, agent = false } = {}) {
  return new Promise((resolve, reject) => {
    let data = null;
    if (body !== undefined) {
      data = typeof body === 'string' || Buffer.isBuffer(body) ? Buffer.from(body) : Buffer.from(JSON.stringify(body));
    }
    const hdrs = { ...headers };
    if (data) {
      if (!Object.keys(hdrs).some((k) => k.toLowerCase() === 'content-type')) hdrs['Content-Type'] = 'application/json';
      hdrs['Content-Length'] = data.length;
    }
    let settled = false;
    const finish = (fn, value) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn(value);
    };
    const req = http.request({ host: HOST, port, method, path, headers: hdrs, agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', () => {});
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        finish(resolve, { status: res.statusCode, headers: res.headers, text, json });
      });
    });
    const timer = setTimeout(() => {
      req.destroy();
      finish(reject, new Error(`HTTP ${method} ${path} timed out after ${timeout} ms`));
    }, timeout);
    // An early response followed by a reset can surface as EPIPE/ECONNRESET on the request;
    // only a failure before any response is an error.
    req.on('error', (err) => finish(reject, err));
    if (data) req.write(data);
    req.end();
  });
}

/** POST /api/broadcast {topic, event, payload}. */
export function broadcast(port, topic, event, payload, opts = {}) {
  return request(port, { ...opts, body: { topic, event, payload } });
}

/**
 * Parses as many complete HTTP/1.1 responses as `buf` holds (Content-Length framing only).
 * Returns [{status, headers, body}]; a response whose body is incomplete ends the list.
 */
export function parseResponses(buf) {
  const out = [];
  let rest = buf;
  for (;;) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) break;
    const head = rest.subarray(0, end).toString('latin1').split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(head[0]);
    if (!m) break;
    const headers = {};
    for (const line of head.slice(1)) {
      const i = line.indexOf(':');
      if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    const len = Number(headers['content-length'] ?? 0);
    if (rest.length < end + 4 + len) break;
    const body = rest.subarray(end + 4, end + 4 + len).toString('utf8');
    out.push({ status: Number(m[1]), headers, body });
    rest = rest.subarray(end + 4 + len);
  }
  return out;
}

/**
 * Writes `text` on a fresh TCP connection and collects what comes back for `ms`
 * milliseconds (or until the server closes). Resolves {responses, raw, closed}.
 */
export function rawHttp(port, text, ms = 1000) {
  return new Promise((resolve) => {
    const sock = net.connect({ host: HOST, port });
    const chunks = [];
    let closed = false;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      const raw = Buffer.concat(chunks);
      resolve({ responses: parseResponses(raw), raw: raw.toString('latin1'), closed });
    };
    const timer = setTimeout(finish, ms);
    sock.on('data', (d) => {
      chunks.push(d);
      // Stop early on a runaway response stream.
      if (chunks.reduce((n, c) => n + c.length, 0) > 1 << 20) finish();
    });
    sock.on('error', () => {});
    sock.on('close', () => {
      closed = true;
      finish();
    });
    sock.on('connect', () => sock.write(text));
  });
}
