// 45 - configuration: file < CINDER_* environment < flags; checkconfig and genconfig; a SIGHUP reload
// that changes a limit live (and keeps the old settings when the new file is bad); JSON log lines
// when stderr is not a terminal; the open-file limit logged at start.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';

import { connect, disconnect, join, makeSocket } from './lib/phx.mjs';
import { CinderServer, runCinder } from './lib/server.mjs';
import { waitUntil } from './lib/util.mjs';

const dir = mkdtempSync(path.join(tmpdir(), 'cinder-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function writeConfig(name, obj) {
  const p = path.join(dir, name);
  writeFileSync(p, typeof obj === 'string' ? obj : JSON.stringify(obj));
  return p;
}

/** How many rooms one socket can join before "too many channels joined". */
async function channelLimit(server, upTo = 12) {
  const socket = await connect(makeSocket(server, { token: `u${Math.random()}` }));
  try {
    for (let i = 0; i < upTo; i++) {
      const ch = socket.channel(`room:limit${i}`);
      const r = await join(ch);
      if (r.status !== 'ok') {
        assert.deepEqual(r.response, { reason: 'too many channels joined' });
        ch.leave();
        return i;
      }
    }
    return upTo;
  } finally {
    await disconnect(socket);
  }
}

async function withServer(args, env, fn) {
  const saved = {};
  for (const [k, v] of Object.entries(env)) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
  const server = new CinderServer(args);
  try {
    await server.start();
  } finally {
    for (const k of Object.keys(env)) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  }
  try {
    return await fn(server);
  } finally {
    await server.stop();
  }
}

describe('settings precedence', { timeout: 60_000 }, () => {
  test('the file sets max_channels', async () => {
    const cfg = writeConfig('a.json', { max_channels: 2 });
    assert.equal(await withServer(['-c', cfg], {}, channelLimit), 2);
  });
  test('the environment beats the file', async () => {
    const cfg = writeConfig('b.json', { max_channels: 2 });
    assert.equal(await withServer(['-c', cfg], { CINDER_MAX_CHANNELS: '3' }, channelLimit), 3);
  });
  test('a flag beats both; CINDER_CONFIG names the file', async () => {
    const cfg = writeConfig('c.json', { max_channels: 2 });
    assert.equal(await withServer(['--max-channels', '4'], { CINDER_CONFIG: cfg, CINDER_MAX_CHANNELS: '3' }, channelLimit), 4);
  });
  test('a bad setting anywhere stops the start with a precise message (exit 2)', async () => {
    const cfg = writeConfig('d.json', { max_channels: 'lots' });
    const r = await runCinder(['-c', cfg]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /d\.json: "max_channels": 'lots' is not a whole number/);
    const r2 = await runCinder(['--idle-timeout', '5 parsecs']);
    assert.equal(r2.code, 2);
    assert.match(r2.stderr, /--idle-timeout/);
  });
});

describe('checkconfig and genconfig', { timeout: 30_000 }, () => {
  test('genconfig prints a complete config that checkconfig accepts', async () => {
    const g = await runCinder(['genconfig']);
    assert.equal(g.code, 0);
    const cfg = JSON.parse(g.stdout);
    for (const key of ['port', 'max_frame_size', 'idle_timeout', 'drain_timeout', 'connection_rate', 'redis']) assert.ok(key in cfg, key);
    const p = writeConfig('gen.json', g.stdout);
    const c = await runCinder(['checkconfig', '-c', p]);
    assert.equal(c.code, 0, c.stderr);
    assert.match(c.stdout, /gen\.json: ok/);
  });
  test('checkconfig: syntax error with its line, wrong value with its key, unknown keys warned', async () => {
    const syntax = writeConfig('syntax.json', '{\n  "port": 4000,\n  "max_channels": 5,,\n}');
    let r = await runCinder(['checkconfig', '-c', syntax]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /syntax\.json: line 3/);
    const wrong = writeConfig('wrong.json', { port: 70000 });
    r = await runCinder(['checkconfig', '-c', wrong]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /"port": '70000' is not a whole number from 1 to 65535/);
    const unknown = writeConfig('unknown.json', { port: 4000, prot: 4001 });
    r = await runCinder(['checkconfig', '-c', unknown]);
    assert.equal(r.code, 0);
    assert.match(r.stderr, /warning: .*unknown setting "prot"/);
    r = await runCinder(['checkconfig']);
    assert.equal(r.code, 2);
  });
  test('version', async () => {
    const r = await runCinder(['version']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^cinder \d+\.\d+\.\d+/);
  });
});

describe('reload on SIGHUP', { timeout: 60_000 }, () => {
  test('a limit changes live; a bad file is rejected and the old settings stay', async () => {
    const cfg = writeConfig('reload.json', { max_channels: 2 });
    await withServer(['-c', cfg], {}, async (server) => {
      const socket = await connect(makeSocket(server, { token: 'kept' })); // stays open across reloads
      assert.equal(await channelLimit(server), 2);
      writeConfig('reload.json', { max_channels: 5 });
      server.proc.kill('SIGHUP');
      await waitUntil(() => /reloaded settings/.test(server.stderr()), 3000, 'the reload log line');
      assert.equal(await channelLimit(server), 5);
      writeConfig('reload.json', '{ "max_channels": ');
      server.proc.kill('SIGHUP');
      await waitUntil(() => /reload rejected/.test(server.stderr()), 3000, 'the rejection log line');
      assert.equal(await channelLimit(server), 5, 'the old settings stay');
      writeConfig('reload.json', { max_channels: 5, compress: true });
      server.proc.kill('SIGHUP');
      await waitUntil(() => /changing \\?"compress\\?" needs a restart/.test(server.stderr()), 3000, 'restart-only setting refused');
      assert.ok(socket.isConnected(), 'reloads drop no sockets');
      await disconnect(socket);
    });
  });
});

describe('logs', { timeout: 30_000 }, () => {
  test('JSON lines when stderr is not a terminal, with the open-file limit at start', async () => {
    await withServer([], {}, async (server) => {
      const lines = server.stderr().trim().split('\n');
      assert.ok(lines.length >= 2);
      for (const line of lines) {
        const j = JSON.parse(line);
        assert.ok(j.ts && j.level && j.msg, line);
      }
      assert.ok(lines.some((l) => /open-file limit/.test(JSON.parse(l).msg)));
    });
  });
  test('--log-format text gives readable lines', async () => {
    await withServer(['--log-format', 'text'], {}, async (server) => {
      assert.match(server.stderr(), /^\d{4}-\d\d-\d\dT[\d:.]+Z info /m);
    });
  });
});
