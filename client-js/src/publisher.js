// Publisher: backends publish to a topic through Cinder's HTTP API, POST /api/broadcast
// {"topic","event","payload"}, over kept-alive connections (one node:http Agent), retrying with
// exponential backoff and jitter on network errors and 5xx answers, never on 4xx (the request itself
// is wrong; sending it again cannot help).
//
// Node only (it uses node:http, loaded on first use, so importing this module in a browser is harmless).
// A retried request may have reached the server before its connection failed: delivery is at least
// once, so subscribers that cannot tolerate a duplicate should carry an id in the payload.
//
// A Redis publisher (PUBLISH straight into the cluster bridge's channel) will join this one when the
// Redis bridge lands in the server.

import { CinderError } from './channel.js';

/** The API refused the message (4xx), or every attempt failed (network errors, 5xx). */
export class PublishError extends CinderError {
  /**
   * @param {string} message
   * @param {{topic: string, event: string, status?: number, response?: any, attempts: number, cause?: unknown}} details
   */
  constructor(message, { topic, event, status, response, attempts, cause }) {
    super(message, { code: 'publish_error', topic, event, response });
    /** HTTP status of the last answer, or undefined after a network error. */
    this.status = status;
    /** Requests made, retries included. */
    this.attempts = attempts;
    if (cause !== undefined) this.cause = cause;
  }
}

/** @param {unknown} v */
const isPlainObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

export class Publisher {
  /**
   * @param {string | URL} url the server's base URL, e.g. `http://127.0.0.1:4000` (a path, if any, is
   *   replaced by `opts.path`)
   * @param {import('../index.js').PublisherOptions} [opts]
   */
  constructor(url, opts = {}) {
    const u = new URL(String(url));
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new TypeError(`Publisher needs an http(s) URL, got ${url}`);
    this.url = new URL(opts.path ?? '/api/broadcast', u);
    this.retries = opts.retries ?? 4;
    this.backoffMs = opts.backoffMs ?? 100;
    this.maxBackoffMs = opts.maxBackoffMs ?? 2000;
    this.timeout = opts.timeout ?? 5000;
    this.headers = { ...(opts.headers || {}) };
    this.maxSockets = opts.maxSockets ?? 8;
    /** @type {any} */
    this.agent = opts.agent ?? null;
    this.ownAgent = !opts.agent;
    this.stats = { published: 0, retries: 0, failed: 0 };
    this.isClosed = false;
    /** Requests in flight and backoff waits, to end them on close(). @type {Set<() => void>} */
    this.cancels = new Set();
    /** @type {Promise<any> | null} */
    this.httpModule = null;
  }

  /** node:http or node:https, and the keep-alive agent, on first use. */
  async transport() {
    if (!this.httpModule) this.httpModule = import(this.url.protocol === 'https:' ? 'node:https' : 'node:http');
    const mod = await this.httpModule;
    if (!this.agent) this.agent = new mod.Agent({ keepAlive: true, maxSockets: this.maxSockets });
    return mod;
  }

  /**
   * Publishes `event` with `payload` to every subscriber of `topic` (on every node). Resolves
   * `{status, body}` (202 from Cinder) once the server accepted it; rejects with a PublishError.
   *
   * @param {string} topic
   * @param {string} event
   * @param {Record<string, any>} payload
   * @returns {Promise<{status: number, body: any, attempts: number}>}
   */
  async publish(topic, event, payload = {}) {
    if (typeof topic !== 'string' || topic === '') throw new TypeError('topic must be a non-empty string');
    if (typeof event !== 'string' || event === '') throw new TypeError('event must be a non-empty string');
    if (!isPlainObject(payload)) throw new TypeError('payload must be an object');
    const body = Buffer.from(JSON.stringify({ topic, event, payload }));
    const mod = await this.transport();
    let attempts = 0;
    for (;;) {
      if (this.isClosed) throw new PublishError('publisher closed', { topic, event, attempts });
      attempts += 1;
      /** @type {{status?: number, body?: any, error?: any}} */
      let result;
      try {
        result = await this.send(mod, body);
      } catch (error) {
        result = { error };
      }
      const { status, error } = result;
      if (status !== undefined && status >= 200 && status < 300) {
        this.stats.published += 1;
        return { status, body: result.body, attempts };
      }
      const retryable = error !== undefined || (status !== undefined && status >= 500);
      if (!retryable || attempts > this.retries) {
        this.stats.failed += 1;
        const why = error !== undefined ? /** @type {Error} */ (error).message : `HTTP ${status} ${JSON.stringify(result.body)}`;
        const tries = attempts > 1 ? ` after ${attempts} attempts` : '';
        throw new PublishError(`publish "${event}" to "${topic}" failed${tries}: ${why}`, {
          topic,
          event,
          status,
          response: result.body,
          attempts,
          cause: error,
        });
      }
      this.stats.retries += 1;
      const base = Math.min(this.maxBackoffMs, this.backoffMs * 2 ** (attempts - 1));
      if (!(await this.sleep(base / 2 + (Math.random() * base) / 2))) throw new PublishError('publisher closed', { topic, event, attempts });
    }
  }

  /**
   * One POST. Resolves {status, body}; rejects on a network error or timeout.
   * @param {any} mod node:http or node:https
   * @param {Buffer} body
   * @returns {Promise<{status: number, body: any}>}
   */
  send(mod, body) {
    return new Promise((resolve, reject) => {
      const req = mod.request(
        this.url,
        {
          method: 'POST',
          agent: this.agent,
          headers: { ...this.headers, 'content-type': 'application/json', 'content-length': body.length },
        },
        (/** @type {import('node:http').IncomingMessage} */ res) => {
          /** @type {Buffer[]} */
          const chunks = [];
          res.on('data', (c) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed;
            try {
              parsed = text ? JSON.parse(text) : undefined;
            } catch {
              parsed = text;
            }
            resolve({ status: /** @type {number} */ (res.statusCode), body: parsed });
          });
        },
      );
      const cancel = () => req.destroy(new Error('publisher closed'));
      this.cancels.add(cancel);
      req.on('close', () => this.cancels.delete(cancel));
      req.setTimeout(this.timeout, () => req.destroy(new Error(`no answer within ${this.timeout} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  /** Waits ms; resolves false at once if the publisher is (or gets) closed. */
  sleep(ms) {
    return new Promise((resolve) => {
      if (this.isClosed) return resolve(false);
      const cancel = () => {
        clearTimeout(timer);
        this.cancels.delete(cancel);
        resolve(false);
      };
      const timer = setTimeout(() => {
        this.cancels.delete(cancel);
        resolve(true);
      }, ms);
      this.cancels.add(cancel);
    });
  }

  /** Stops retries in progress (they reject) and closes the kept-alive connections. */
  close() {
    this.isClosed = true;
    for (const cancel of [...this.cancels]) cancel();
    if (this.ownAgent && this.agent) this.agent.destroy();
  }
}
