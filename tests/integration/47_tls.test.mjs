// 47 - TLS: wss:// and https:// with a certificate from the settings; phoenix.js over wss; a renewed
// certificate is picked up on SIGHUP without dropping open sockets.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { after, describe, test } from 'node:test';

import { Socket } from 'phoenix';
import WebSocket from 'ws';

import { CinderServer } from './lib/server.mjs';
import { waitUntil, withTimeout } from './lib/util.mjs';

const dir = mkdtempSync(path.join(tmpdir(), 'cinder-tls-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const cert = path.join(dir, 'cert.pem');
const key = path.join(dir, 'key.pem');

function makeCert(cn) {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${cn}`], { stdio: 'ignore' });
}

/** The CN of the certificate the server presents now. */
function peerCN(port) {
  return withTimeout(
    new Promise((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
        resolve(s.getPeerCertificate().subject.CN);
        s.destroy();
      });
      s.on('error', reject);
    }),
    3000,
    'TLS handshake',
  );
}

class InsecureWS extends WebSocket {
  constructor(url, protocols) {
    super(url, protocols, { rejectUnauthorized: false });
  }
}

describe('TLS', { timeout: 60_000 }, () => {
  test('phoenix.js over wss, https API, certificate reload on SIGHUP', async () => {
    makeCert('cinder-one');
    const server = new CinderServer(['--tls-cert', cert, '--tls-key', key]);
    await server.start();
    try {
      assert.equal(await peerCN(server.port), 'cinder-one');
      const socket = new Socket(`wss://127.0.0.1:${server.port}/socket`, { transport: InsecureWS, params: { token: 't' } });
      const ch = socket.channel('room:tls');
      const shouts = [];
      ch.on('shout', (p) => shouts.push(p));
      socket.connect();
      await withTimeout(new Promise((resolve, reject) => ch.join().receive('ok', resolve).receive('error', reject)), 5000, 'join over wss');
      const status = await new Promise((resolve, reject) => {
        const rq = https.request({ host: '127.0.0.1', port: server.port, path: '/api/broadcast', method: 'POST', rejectUnauthorized: false, headers: { 'content-type': 'application/json' } }, (res) => {
          res.resume();
          resolve(res.statusCode);
        });
        rq.on('error', reject);
        rq.end(JSON.stringify({ topic: 'room:tls', event: 'shout', payload: { over: 'https' } }));
      });
      assert.equal(status, 202);
      await waitUntil(() => shouts.length === 1, 3000, 'the https broadcast over wss');
      makeCert('cinder-two');
      server.proc.kill('SIGHUP');
      await waitUntil(async () => (await peerCN(server.port)) === 'cinder-two', 5000, 'the renewed certificate');
      assert.ok(socket.isConnected(), 'the open socket survived the reload');
      socket.disconnect();
    } finally {
      await server.stop();
    }
  });
});
