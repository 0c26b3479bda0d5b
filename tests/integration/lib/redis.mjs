// A real redis-server on a free loopback port, for the cluster tests: start, kill, restart on the
// same port, and publish with redis-cli. Nothing is persisted.

import { execFile, spawn } from 'node:child_process';
import net from 'node:net';

import { CinderServer, freePort, HOST } from './server.mjs';
import { sleep, waitUntil, withTimeout } from './util.mjs';

/** Shards per node in the cluster tests: each shard is a Redis subscriber of its own (and the shards'
 * own carrier is exercised alongside Redis), so a publish reaches nodes x CLUSTER_SHARDS. */
export const CLUSTER_SHARDS = 2;
const CLUSTER_ARGS = ['--cluster-heartbeat', '200ms', '--cluster-expiry', '1500ms', '--shards', String(CLUSTER_SHARDS)];

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

  /** Start `count` cinder nodes joined through this Redis (extra flags after the cluster ones), each
   * pushed onto `nodes` once started (for the caller's teardown), and wait until every shard of every
   * node is subscribed: a backend publish reaches count x CLUSTER_SHARDS. Resolves `nodes`. */
  async startNodes(count, extra = [], nodes = []) {
    for (let i = 0; i < count; i++) {
      const n = new CinderServer(['--redis', this.url, ...CLUSTER_ARGS, ...extra]);
      await n.start();
      nodes.push(n);
    }
    const all = count * CLUSTER_SHARDS;
    await waitUntil(async () => (await this.publish('cinder:publish', '{"topic":"x:1","event":"e","payload":{}}')) === all, 5000, `${count} nodes subscribed`);
    return nodes;
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
