// A real `cinder` process for the tests: $CINDER_BIN, else <repo>/build/server/cinder, on a free
// loopback port. stop() fails if the process died on its own (a crash is a failure even when every
// assertion passed) or printed a sanitizer report. Every wait here is bounded.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const CINDER_BIN = process.env.CINDER_BIN || path.join(REPO_ROOT, 'build', 'server', 'cinder');
export const HOST = '127.0.0.1';

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Rejects with a labelled error when `promise` has not settled within `ms`. */
export function withTimeout(promise, ms, label) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${label}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Polls `predicate` until it returns something truthy; rejects after `ms`. */
export async function waitUntil(predicate, ms, label, interval = 20) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await predicate();
    if (value) return value;
    if (Date.now() >= deadline) throw new Error(`timed out after ${ms} ms waiting for ${label}`);
    await sleep(interval);
  }
}

/** A loopback port that was free a moment ago. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, HOST, () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function canConnect(port, ms = 300) {
  return new Promise((resolve) => {
    const sock = net.connect({ host: HOST, port });
    const done = (ok) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), ms);
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

const SANITIZER_REPORT = /ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:/;

export class Cinder {
  /** @param {{args?: string[], port?: number, cwd?: string}} [opts] */
  constructor({ args = [], port, cwd } = {}) {
    this.args = args;
    this.port = port ?? null;
    this.cwd = cwd;
    this.proc = null;
    this.exit = null;
    this.stderr = '';
  }

  get httpUrl() {
    return `http://${HOST}:${this.port}`;
  }

  get wsUrl() {
    return `ws://${HOST}:${this.port}/socket`;
  }

  alive() {
    return this.proc !== null && this.exit === null;
  }

  /** Starts the server (on the same port again after a stop, unless it was never started). */
  async start(ms = 10_000) {
    if (!existsSync(CINDER_BIN)) throw new Error(`cinder not found at ${CINDER_BIN} (build it, or set CINDER_BIN)`);
    this.port ??= await freePort();
    this.exit = null;
    this.stopping = false;
    const proc = spawn(CINDER_BIN, ['--bind', HOST, '--port', String(this.port), ...this.args], {
      stdio: ['ignore', 'ignore', 'pipe'],
      cwd: this.cwd,
    });
    this.proc = proc;
    proc.stderr.setEncoding('utf8').on('data', (d) => (this.stderr = (this.stderr + d).slice(-64 * 1024)));
    this.exited = new Promise((resolve) =>
      proc.once('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      }),
    );
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      if (this.exit) throw new Error(`cinder exited at start: ${JSON.stringify(this.exit)}\n${this.stderr}`);
      if (await canConnect(this.port)) return this;
      await sleep(25);
    }
    await this.stop().catch(() => {});
    throw new Error(`cinder did not listen on ${this.port} within ${ms} ms\n${this.stderr}`);
  }

  /** SIGTERM (or `signal`), SIGKILL after 3 s. Throws if it had died on its own or reported memory errors. */
  async stop(signal = 'SIGTERM') {
    if (!this.proc) return;
    const diedEarly = this.exit !== null && !this.stopping;
    this.stopping = true;
    if (!this.exit) {
      this.proc.kill(signal);
      try {
        await withTimeout(this.exited, 3000, 'cinder to exit');
      } catch {
        this.proc.kill('SIGKILL');
        await withTimeout(this.exited, 3000, 'cinder to exit after SIGKILL').catch(() => {});
      }
    }
    if (diedEarly) throw new Error(`cinder died during the test: ${JSON.stringify(this.exit)}\n${this.stderr.slice(-4000)}`);
    if (SANITIZER_REPORT.test(this.stderr)) throw new Error(`cinder printed a sanitizer report\n${this.stderr.slice(-8000)}`);
  }
}

/** Starts a cinder with `args`, stopped by the returned object's stop(). */
export async function startCinder(args = [], opts = {}) {
  return new Cinder({ args, ...opts }).start();
}
