// 65 - what a client that never authenticates can make the server hold (README "Security"): before
// the WebSocket handshake libwebsockets keeps a connection and a 4 KiB header buffer, for at most 10 s
// (silent, or trickling a request a byte at a time), and headers over that buffer close the connection
// at once; a refused upgrade (403) is answered and closed by the server. None of them is a cinder
// connection, and the memory comes back.

import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, test } from 'node:test';

import { useServer } from './lib/harness.mjs';
import { isAsanBuild, memory, mib } from './lib/memory.mjs';
import { scrape, value } from './lib/prom.mjs';
import { CINDER_BIN, HOST } from './lib/server.mjs';
import { sleep } from './lib/util.mjs';

const SILENT = 500;

/** A raw TCP connection; `gone` resolves with the ms from open to the server closing it. */
function tcp(port, src = '127.0.0.1') {
  const sock = net.connect({ host: HOST, port, localAddress: src });
  const opened = Date.now();
  sock.received = '';
  sock.on('data', (d) => (sock.received += d.toString('latin1')));
  sock.on('error', () => {});
  sock.gone = new Promise((resolve) => sock.once('close', () => resolve(Date.now() - opened)));
  return sock;
}

describe('before the handshake', { timeout: 60_000 }, () => {
  const ctx = useServer();

  test(`${SILENT} silent connections and a slow request are cut after 10 s; oversized headers at once`, async (t) => {
    await sleep(200);
    const before = memory(ctx.server.proc.pid).rss;
    const silent = Array.from({ length: SILENT }, (_, i) => tcp(ctx.port, `127.0.0.${2 + (i % 4)}`));
    await Promise.all(silent.map((s) => new Promise((r) => (s.connecting ? s.once('connect', r) : r()))));
    // a request line sent one byte every 200 ms: trickling does not extend the 10 s
    const slow = tcp(ctx.port);
    const line = `GET /socket/websocket?token=slow&vsn=2.0.0 HTTP/1.1\r\nHost: x\r\nX-Pad: ${'p'.repeat(200)}`;
    let i = 0;
    const trickle = setInterval(() => slow.destroyed || slow.write(line[i++ % line.length]), 200);
    // headers over libwebsockets' 4 KiB: closed without an answer
    const big = tcp(ctx.port);
    big.write(`GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(8000)}\r\n\r\n`);
    const bigMs = await big.gone;
    assert.ok(bigMs < 2000, `oversized headers closed after ${bigMs} ms`);
    assert.equal(big.received, '', 'no answer to oversized headers');
    // a refused upgrade is answered, then closed by the server
    const refused = tcp(ctx.port);
    refused.write(`GET /socket/websocket?token=bad&vsn=2.0.0 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    const refusedMs = await refused.gone;
    assert.match(refused.received, /^HTTP\/1\.[01] 403/);
    assert.ok(refusedMs < 2000, `a refused upgrade closed after ${refusedMs} ms`);

    await sleep(500);
    const holding = memory(ctx.server.proc.pid).rss;
    const m = await scrape(ctx.port);
    assert.equal(value(m, 'cinder_connections', { transport: 'websocket' }), 0, 'none of them is a cinder connection');

    const times = await Promise.all(silent.map((s) => s.gone));
    const slowMs = await slow.gone;
    clearInterval(trickle);
    assert.ok(Math.min(...times) >= 9000 && Math.max(...times) < 13_000, `silent connections closed after ${Math.min(...times)}..${Math.max(...times)} ms`);
    assert.ok(slowMs >= 9000 && slowMs < 13_000, `the trickling request closed after ${slowMs} ms`);
    // the memory is free again: a second round of as many connections fits in it (glibc keeps freed
    // heap rather than returning it, so RSS alone does not fall back)
    const again = Array.from({ length: SILENT }, (_, i) => tcp(ctx.port, `127.0.0.${2 + (i % 4)}`));
    await Promise.all(again.map((s) => new Promise((r) => (s.connecting ? s.once('connect', r) : r()))));
    await sleep(500);
    const holdingAgain = memory(ctx.server.proc.pid).rss;
    for (const s of again) s.destroy();
    const perConn = ((holding - before) * 1024) / SILENT;
    t.diagnostic(
      `pre-handshake: ${SILENT} silent connections held ${mib(holding - before)} (${(perConn / 1024).toFixed(1)} KiB each) ` +
        `until cut after ${(Math.min(...times) / 1000).toFixed(1)}..${(Math.max(...times) / 1000).toFixed(1)} s; a trickled request ` +
        `cut after ${(slowMs / 1000).toFixed(1)} s; oversized headers closed after ${bigMs} ms; RSS ${mib(before)} -> ` +
        `${mib(holding)}, then ${mib(holdingAgain)} with ${SILENT} more`,
    );
    if (!isAsanBuild(CINDER_BIN)) {
      assert.ok(perConn < 8 * 1024, `${perConn} bytes per pre-handshake connection`);
      assert.ok(holdingAgain <= holding + 512, `RSS ${mib(holding)} -> ${mib(holdingAgain)}: the first ${SILENT} were not freed`);
    }
  });
});
