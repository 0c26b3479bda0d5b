// Starts and stops a real `cinder` process for one test file (or one describe block).
//
// The binary is $CINDER_BIN, or <repo>/build/cinder. Each server gets a free loopback port,
// its stderr is kept (the last 64 KiB) for diagnostics, and stop() fails loudly if the
// process died on its own before we stopped it: a crash is a test failure even when every
// assertion passed.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { sleep, withTimeout } from './util.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(here, '..', '..', '..');
// build/cinder is the documented location; CMake's default layout puts the executable
// in build/server/, so fall back to that when the first is absent.
function defaultBinary() {
  const documented = path.join(REPO_ROOT, 'build', 'cinder');
  const cmakeDefault = path.join(REPO_ROOT, 'build', 'server', 'cinder');
  return existsSync(documented) || !existsSync(cmakeDefault) ? documented : cmakeDefault;
}
export const CINDER_BIN = process.env.CINDER_BIN || defaultBinary();
export const HOST = '127.0.0.1';

const STDERR_KEEP = 256 * 1024;
const SANITIZER_REPORT = /ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:/;
const START_TIMEOUT_MS = 10_000;
const TERM_GRACE_MS = 3_000;

/** A port that was free a moment ago (listen on port 0, read it, close). */
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

/** Resolves true if a TCP connection to host:port succeeds within `ms`. */
function canConnect(port, ms = 500) {
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

export class CinderServer {
  /**
   * args: cinder's arguments after --bind/--port; env: variables added to the environment; port: a
   * fixed port (e.g. to restart a server where its clients reconnect), else a free one.
   */
  constructor(args = [], { env = {}, port = null } = {}) {
    this.extraArgs = args;
    this.env = env;
    this.fixedPort = port;
    this.port = null;
    this.proc = null;
    this.stderrBuf = '';
    this.stdoutBuf = '';
    this.exit = null; // {code, signal} once the process has exited
    this.stopping = false;
  }

  get host() {
    return HOST;
  }

  /** ws://127.0.0.1:P/socket, the endPoint phoenix.js expects (it appends /websocket). */
  get socketUrl() {
    return `ws://${HOST}:${this.port}/socket`;
  }

  /** Full WebSocket URL with the given query parameters (undefined values are left out). */
  wsUrl(query = { token: 'alice', vsn: '2.0.0' }) {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) qs.append(k, v);
    const s = qs.toString();
    return `${this.socketUrl}/websocket${s ? `?${s}` : ''}`;
  }

  get httpBase() {
    return `http://${HOST}:${this.port}`;
  }

  /** True while the process is running. */
  alive() {
    return this.proc !== null && this.exit === null;
  }

  stderr() {
    return this.stderrBuf;
  }

  describe() {
    const status = this.exit ? `exited code=${this.exit.code} signal=${this.exit.signal}` : 'running';
    return `cinder on port ${this.port} (${status}); stderr tail:\n${this.stderrBuf.slice(-4000)}`;
  }

  async start() {
    if (!existsSync(CINDER_BIN)) {
      throw new Error(`cinder binary not found at ${CINDER_BIN} (build it or set CINDER_BIN)`);
    }
    this.port = this.fixedPort ?? (await freePort());
    const args = ['--bind', HOST, '--port', String(this.port)];
    if (process.env.CINDER_LOG_LEVEL) args.push('--log-level', process.env.CINDER_LOG_LEVEL);
    args.push(...this.extraArgs);
    this.proc = spawn(CINDER_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...this.env } });
    this.proc.stdout.setEncoding('utf8');
    this.proc.stderr.setEncoding('utf8');
    this.proc.stdout.on('data', (d) => {
      this.stdoutBuf = (this.stdoutBuf + d).slice(-STDERR_KEEP);
    });
    this.proc.stderr.on('data', (d) => {
      this.stderrBuf = (this.stderrBuf + d).slice(-STDERR_KEEP);
    });
    this.exited = new Promise((resolve) => {
      this.proc.once('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
    this.proc.once('error', (err) => {
      this.stderrBuf += `\n[spawn error] ${err.message}`;
    });

    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (this.exit) throw new Error(`cinder exited during startup.\n${this.describe()}`);
      if (await canConnect(this.port)) return this;
      await sleep(25);
    }
    await this.stop().catch(() => {});
    throw new Error(`cinder did not accept connections within ${START_TIMEOUT_MS} ms.\n${this.describe()}`);
  }

  /**
   * SIGTERM, then SIGKILL after 3 s. Throws if the process had already died on its own
   * (a crash during the tests), so the suite reports it.
   */
  async stop() {
    if (!this.proc) return;
    const diedEarly = this.exit !== null && !this.stopping;
    this.stopping = true;
    if (!this.exit) {
      this.proc.kill('SIGTERM');
      try {
        await withTimeout(this.exited, TERM_GRACE_MS, 'cinder to exit after SIGTERM');
      } catch {
        this.proc.kill('SIGKILL');
        await withTimeout(this.exited, TERM_GRACE_MS, 'cinder to exit after SIGKILL').catch(() => {});
      }
    }
    if (diedEarly) {
      throw new Error(`cinder died before the tests stopped it.\n${this.describe()}`);
    }
    // A sanitizer build (CINDER_ASAN / CINDER_UBSAN) reports memory errors and leaks on
    // stderr; any such report fails the suite.
    if (SANITIZER_REPORT.test(this.stderrBuf)) {
      throw new Error(`cinder printed a sanitizer report.\n${this.describe()}`);
    }
  }
}

export async function startServer(args = []) {
  const server = new CinderServer(args);
  await server.start();
  return server;
}

/** Runs the binary with `args` to completion (e.g. --help); bounded. */
export function runCinder(args, ms = 5000) {
  return new Promise((resolve, reject) => {
    if (!existsSync(CINDER_BIN)) {
      reject(new Error(`cinder binary not found at ${CINDER_BIN}`));
      return;
    }
    const proc = spawn(CINDER_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    proc.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`cinder ${args.join(' ')} did not exit within ${ms} ms`));
    }, ms);
    proc.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    proc.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}
