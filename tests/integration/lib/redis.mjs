// A real redis-server on a free loopback port, for the cluster tests: start, kill, restart on the
// same port, and publish with redis-cli. Nothing is persisted.

import { execFile, spawn } from 'node:child_process';
import net from 'node:net';

import { freePort, HOST } from './server.mjs';
import { sleep, withTimeout } from './util.mjs';

function canConnect(port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: HOST, port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export class RedisServer {
  constructor() {
    this.port = null;
    this.proc = null;
  }

  get url() {
    return `redis://${HOST}:${this.port}/0`;
  }

  async start() {
    if (this.port === null) this.port = await freePort();
    this.proc = spawn('redis-server', ['--port', String(this.port), '--bind', HOST, '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    this.exited = new Promise((resolve) => this.proc.once('exit', resolve));
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      if (await canConnect(this.port)) return this;
      await sleep(25);
    }
    throw new Error(`redis-server did not start on port ${this.port}`);
  }

  /** SIGKILL: Redis dies as in a crash. */
  async kill() {
    if (!this.proc) return;
    this.proc.kill('SIGKILL');
    await withTimeout(this.exited, 3000, 'redis-server to die');
    this.proc = null;
  }

  async stop() {
    await this.kill();
  }

  /** PUBLISH over a plain RESP connection (for messages too big for a command line). */
  publishRaw(channel, message) {
    const body = Buffer.from(message);
    const parts = [Buffer.from(`*3\r\n$7\r\nPUBLISH\r\n$${Buffer.byteLength(channel)}\r\n${channel}\r\n$${body.length}\r\n`), body, Buffer.from('\r\n')];
    return withTimeout(
      new Promise((resolve, reject) => {
        const s = net.connect({ host: HOST, port: this.port }, () => s.write(Buffer.concat(parts)));
        s.once('data', (d) => {
          s.destroy();
          resolve(Number(d.toString().slice(1)));
        });
        s.once('error', reject);
      }),
      5000,
      'PUBLISH over RESP',
    );
  }

  /** PUBLISH channel message through redis-cli; resolves the number of receivers. */
  publish(channel, message) {
    return new Promise((resolve, reject) => {
      execFile('redis-cli', ['-h', HOST, '-p', String(this.port), 'PUBLISH', channel, message], { timeout: 3000 }, (err, out) =>
        err ? reject(err) : resolve(Number(out.trim())),
      );
    });
  }
}
