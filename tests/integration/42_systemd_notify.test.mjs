// 42 - systemd's sd_notify protocol, for real: a unix datagram socket stands in for systemd (Node has
// no unix datagram sockets, so a few lines of python3 hold it and print each message), cinder runs with
// NOTIFY_SOCKET pointing at it, and the messages must be READY=1 once it listens, RELOADING=1 then
// READY=1 around a SIGHUP reload, STOPPING=1 when SIGTERM starts the drain.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { CinderServer, HOST } from './lib/server.mjs';
import { waitUntil, withTimeout } from './lib/util.mjs';

// Binds the path given as argv[1], prints "bound", then each datagram as a JSON string per line; gives
// up after 60 s without one.
const RECEIVER = `
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("bound", flush=True)
s.settimeout(60)
while True:
    print(json.dumps(s.recv(65536).decode()), flush=True)
`;

/** A fake systemd notify socket: .messages holds every message as {KEY: value}. */
class NotifySocket {
  constructor() {
    this.dir = mkdtempSync(path.join(os.tmpdir(), 'cinder-notify-'));
    this.path = path.join(this.dir, 'notify.sock');
    this.messages = [];
  }

  async start() {
    this.proc = spawn('python3', ['-c', RECEIVER, this.path], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.exited = new Promise((resolve) => this.proc.once('exit', resolve));
    let buf = '';
    const bound = new Promise((resolve, reject) => {
      this.proc.once('error', reject);
      this.proc.stdout.setEncoding('utf8').on('data', (d) => {
        buf += d;
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          if (line === 'bound') resolve();
          else this.messages.push(Object.fromEntries(JSON.parse(line).split('\n').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])));
        }
      });
    });
    await withTimeout(bound, 5000, 'the notify socket to be bound (python3)');
  }

  /** Waits for a message with KEY=value after the first `from` messages; resolves its index. */
  async waitFor(key, val, from = 0, ms = 5000) {
    return waitUntil(() => {
      const i = this.messages.findIndex((m, j) => j >= from && m[key] === val);
      return i >= 0 ? i + 1 : 0;
    }, ms, `${key}=${val} on the notify socket (got ${JSON.stringify(this.messages)})`).then((n) => n - 1);
  }

  async stop() {
    if (this.proc && this.proc.exitCode === null) {
      this.proc.kill('SIGKILL');
      await withTimeout(this.exited, 3000, 'the notify receiver to exit').catch(() => {});
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

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

describe('sd_notify', { timeout: 30_000 }, () => {
  const notify = new NotifySocket();
  let node;

  before(async () => {
    await notify.start();
  });

  after(async () => {
    if (node) await node.stop();
    await notify.stop();
  });

  test('READY=1 once listening, RELOADING=1 then READY=1 around SIGHUP, STOPPING=1 at SIGTERM', async () => {
    node = new CinderServer(['--static-dir', '', '--drain-timeout', '1s'], { env: { NOTIFY_SOCKET: notify.path } });
    await node.start();
    const ready = await notify.waitFor('READY', '1');
    assert.equal(ready, 0, 'READY=1 is the first message');
    assert.equal(notify.messages[0].STATUS, 'serving');
    assert.ok(await canConnect(node.port), 'listening when READY=1 was sent');

    node.proc.kill('SIGHUP');
    const reloading = await notify.waitFor('RELOADING', '1', 1);
    assert.match(notify.messages[reloading].MONOTONIC_USEC, /^\d+$/);
    const readyAgain = await notify.waitFor('READY', '1', reloading + 1);
    assert.ok(readyAgain > reloading);
    await waitUntil(() => /reloaded settings/.test(node.stderr()), 3000, 'the reload log line');

    node.stopping = true; // our SIGTERM: the exit is expected
    node.proc.kill('SIGTERM');
    const stopping = await notify.waitFor('STOPPING', '1', readyAgain + 1);
    assert.ok(stopping > readyAgain);
    const exit = await withTimeout(node.exited, 5000, 'cinder to exit after SIGTERM');
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.deepEqual(
      notify.messages.map((m) => Object.keys(m).find((k) => ['READY', 'RELOADING', 'STOPPING'].includes(k))),
      ['READY', 'RELOADING', 'READY', 'STOPPING'],
      'nothing else was announced',
    );
  });

  test('a NOTIFY_SOCKET nobody listens on does not stop the server', async () => {
    const s = new CinderServer(['--static-dir', ''], { env: { NOTIFY_SOCKET: path.join(notify.dir, 'nobody.sock') } });
    await s.start();
    s.proc.kill('SIGHUP');
    await waitUntil(() => /reloaded settings/.test(s.stderr()), 3000, 'the reload log line');
    assert.ok(s.alive(), s.describe());
    await s.stop();
  });
});
