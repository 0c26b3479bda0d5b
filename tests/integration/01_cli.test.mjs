// 01 - command line: --help and --version exit 0 and print to stdout; the listed flags
// are accepted (the server starts with all of them and serves).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { connect, makeSocket, disconnect, ping } from './lib/phx.mjs';
import { runCinder, startServer } from './lib/server.mjs';

describe('cli', { timeout: 20_000 }, () => {
  test('--help exits 0 and documents the flags on stdout', async () => {
    const { code, stdout } = await runCinder(['--help']);
    assert.equal(code, 0);
    for (const flag of ['--port', '--bind', '--max-frame-size', '--max-queue-size', '--max-body-size', '--idle-timeout', '--max-channels', '--log-level']) {
      assert.ok(stdout.includes(flag), `--help output should mention ${flag}:\n${stdout}`);
    }
  });

  test('--version exits 0 and prints a version on stdout', async () => {
    const { code, stdout } = await runCinder(['--version']);
    assert.equal(code, 0);
    assert.match(stdout, /\d+\.\d+/);
  });

  test('starts with every option set and serves a phoenix.js client', async () => {
    const server = await startServer([
      '--max-frame-size', '65536',
      '--max-queue-size', '131072',
      '--max-body-size', '4096',
      '--idle-timeout', '30s',
      '--max-channels', '10',
      '--log-level', 'warn',
    ]);
    const socket = makeSocket(server);
    try {
      await connect(socket);
      assert.ok((await ping(socket)) >= 0);
    } finally {
      await disconnect(socket);
      await server.stop();
    }
  });

  test('--idle-timeout accepts ms and plain seconds', async () => {
    for (const value of ['500ms', '2']) {
      const server = await startServer(['--idle-timeout', value]);
      try {
        assert.ok(server.alive(), `server should run with --idle-timeout ${value}`);
      } finally {
        await server.stop();
      }
    }
  });
});
