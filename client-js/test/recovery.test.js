// recoverableChannel: on every rejoin it asks for what it missed; a dropped connection loses nothing on
// a history topic, and onRecovery says whether the gap could be filled.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { Publisher, createSocket, joinChannel, recoverableChannel } from '../src/index.js';
import { Cinder, waitUntil } from './lib/cinder.js';

const dir = mkdtempSync(path.join(tmpdir(), 'cinder-client-recovery-'));
const config = path.join(dir, 'cinder.json');
writeFileSync(config, JSON.stringify({ topics: [{ pattern: 'telemetry:*', history: { size: 500 } }] }));

describe('recoverableChannel', { timeout: 30_000 }, () => {
  const server = new Cinder({ args: ['-c', config] });
  let publisher;
  before(async () => {
    await server.start();
    publisher = new Publisher(server.httpUrl);
  });
  after(async () => {
    publisher.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a dropped connection loses nothing: the missed messages come back in order', async () => {
    const socket = createSocket(server.httpUrl, { token: 'dash', reconnectAfterMs: () => 300, rejoinAfterMs: () => 100 });
    const recoveries = [];
    const ch = recoverableChannel(socket, 'telemetry:fleet', {}, { onRecovery: (r) => recoveries.push(r) });
    const got = [];
    ch.on('position', (p) => got.push(p.n));
    await joinChannel(ch);
    assert.equal(ch.cursor().seq, 0);
    for (let n = 1; n <= 10; n++) await publisher.publish('telemetry:fleet', 'position', { n });
    await waitUntil(() => got.length === 10, 3000, 'live');
    assert.equal(ch.cursor().seq, 10);
    socket.conn._socket.destroy();
    for (let n = 11; n <= 40; n++) await publisher.publish('telemetry:fleet', 'position', { n });
    await waitUntil(() => got.length === 40, 5000, 'the missed 30 after the rejoin');
    assert.deepEqual(got, [...Array(40).keys()].map((i) => i + 1));
    assert.equal(recoveries.length, 1);
    assert.equal(recoveries[0].recovered, true);
    assert.equal(ch.cursor().seq, 40);
    socket.disconnect();
  });
});
