// 07 - bad input: an undecodable frame closes only the connection that sent it (1007),
// invalid UTF-8 in a text frame closes with 1007, a frame above --max-frame-size with
// 1009; abrupt disconnects mid-join are survived. After each, a fresh phoenix.js client
// still joins and pings, and the process is still alive at the end.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { useServer } from './lib/harness.mjs';
import { joinOk, push } from './lib/phx.mjs';
import { RawClient, encodeClientFrame, rawUpgrade } from './lib/raw.mjs';
import { sleep } from './lib/util.mjs';

const MAX_FRAME = 65536;

describe('bad input', { timeout: 40_000 }, () => {
  const ctx = useServer(['--max-frame-size', String(MAX_FRAME)]);

  /** A fresh phoenix.js client can connect, join and ping. */
  async function assertServerServes() {
    const socket = await ctx.phx({ token: 'healthy' });
    const channel = socket.channel('room:health');
    await joinOk(channel);
    assert.deepEqual(await push(channel, 'ping', { ok: 1 }), { status: 'ok', response: { ok: 1 } });
    assert.ok(ctx.server.alive(), ctx.server.describe());
  }

  /** Opens a raw client, optionally joins, sends `frame` via `send`, expects close `code`. */
  async function expectCloseAfter(send, code, { query, joinFirst = true } = {}) {
    const bystander = await ctx.raw({ token: 'bystander', vsn: '2.0.0' });
    const bystanderJr = await bystander.joinOk('room:bad');
    const raw = await ctx.raw(query);
    if (joinFirst && (!query || query.vsn === '2.0.0')) await raw.joinOk('room:bad');
    send(raw);
    const closed = await raw.waitClose(3000);
    assert.equal(closed.code, code, `close code (reason ${JSON.stringify(closed.reason)})`);
    // Only that connection is affected.
    assert.ok(bystander.isOpen, 'another connection must stay open');
    const reply = await bystander.call('room:bad', 'ping', { still: 1 }, { joinRef: bystanderJr });
    assert.deepEqual(reply[4], { status: 'ok', response: { still: 1 } });
    await assertServerServes();
  }

  const undecodable = [
    ['invalid JSON text', '{"not json'],
    ['empty text frame', ''],
    ['JSON object on a V2 connection', { topic: 'room:bad', event: 'ping', payload: {}, ref: '1' }],
    ['JSON number', 42],
    ['JSON string', '"just a string"'],
    ['array of 3', [null, '1', 'room:bad']],
    ['empty array', []],
    ['topic as a number', [null, '1', 5, 'ping', {}]],
    ['event as a number', [null, '1', 'room:bad', 7, {}]],
    ['event as null', [null, '1', 'room:bad', null, {}]],
  ];
  for (const [name, frame] of undecodable) {
    test(`${name} -> close 1007`, async () => {
      await expectCloseAfter((raw) => raw.send(frame), 1007);
    });
  }

  test('binary garbage frame -> close 1007', async () => {
    await expectCloseAfter((raw) => raw.send(Buffer.from([0xff, 0x00, 0x13, 0x37, 0xde, 0xad])), 1007);
  });

  test('binary frame with lengths beyond its size -> close 1007', async () => {
    await expectCloseAfter((raw) => raw.send(Buffer.from([0x00, 0x09, 0x09, 0x40, 0x40, 0x31])), 1007);
  });

  test('invalid UTF-8 in a text frame -> close 1007', async () => {
    const bytes = Buffer.concat([Buffer.from('[null,"1","phoenix","heartbeat",{"x":"'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}]')]);
    await expectCloseAfter((raw) => raw.sendTextBytes(bytes), 1007);
  });

  test('a V1 connection sending a V2 array -> close 1007', async () => {
    await expectCloseAfter((raw) => raw.send([null, '1', 'phoenix', 'heartbeat', {}]), 1007, { query: { token: 'alice' } });
  });

  test('a V1 object missing "ref" -> close 1007', async () => {
    await expectCloseAfter((raw) => raw.send({ topic: 'phoenix', event: 'heartbeat', payload: {} }), 1007, { query: { token: 'alice' } });
  });

  test(`a text frame above --max-frame-size (${MAX_FRAME}) -> close 1009`, async () => {
    const frame = JSON.stringify([null, '1', 'phoenix', 'heartbeat', { pad: 'x'.repeat(MAX_FRAME + 1000) }]);
    await expectCloseAfter((raw) => raw.send(frame), 1009);
  });

  test('a fragmented message whose total exceeds --max-frame-size -> close 1009', async () => {
    // Every fragment is under the limit; the message is not. The last fragment is the one
    // that crosses it, so the client has nothing left to write when the server closes (a
    // client still writing after the close gets EPIPE and `ws` then reports 1006).
    const chunk = 'x'.repeat(30_000);
    await expectCloseAfter((raw) => {
      raw.send(`[null,"1","phoenix","heartbeat",{"pad":"${chunk}`, { fin: false });
      raw.send(chunk, { fin: false });
      raw.send(`${chunk}"}]`, { fin: true });
    }, 1009);
  });

  test('a message just under --max-frame-size is accepted', async () => {
    const raw = await ctx.raw();
    const J = await raw.joinOk('room:big');
    const P = { pad: 'y'.repeat(MAX_FRAME - 200) };
    const frame = JSON.stringify([J, '99', 'room:big', 'ping', P]);
    assert.ok(frame.length < MAX_FRAME);
    raw.send(frame);
    assert.deepEqual(await raw.expectReply('room:big', '99', 5000), [J, '99', 'room:big', 'phx_reply', { status: 'ok', response: P }]);
  });

  test('a fragmented message under the limit is reassembled', async () => {
    const raw = await ctx.raw();
    raw.send('[null,"f1","pho', { fin: false });
    raw.send('enix","heart', { fin: false });
    raw.send('beat",{}]', { fin: true });
    assert.deepEqual(await raw.next(), [null, 'f1', 'phoenix', 'phx_reply', { status: 'ok', response: {} }]);
  });

  test('many bad connections in a row do not hurt the server', async () => {
    const frames = ['nope', '[1,2]', Buffer.from([1, 2, 3]), '{"a":1}'];
    const clients = [];
    for (let i = 0; i < 40; i++) {
      const raw = await ctx.raw();
      clients.push(raw);
      raw.send(frames[i % frames.length]);
    }
    const closes = await Promise.all(clients.map((c) => c.waitClose(5000)));
    assert.deepEqual(closes.map((c) => c.code).filter((c) => c !== 1007), []);
    await assertServerServes();
  });

  test('abrupt TCP disconnect right after sending a join', async () => {
    for (let i = 0; i < 20; i++) {
      const raw = ctx.track(await RawClient.open(ctx.server.wsUrl({ token: `abrupt${i}`, vsn: '2.0.0' })));
      raw.send(['1', '1', `room:abrupt${i % 3}`, 'phx_join', {}]);
      raw.send([null, '2', `room:abrupt${i % 3}`, 'shout', { i }]);
      raw.ws._socket.destroy();
    }
    await sleep(200);
    await assertServerServes();
  });

  test('abrupt disconnect with a half-written frame and a half-done handshake', async () => {
    // Half a frame after a completed upgrade.
    const sock = await rawUpgrade(ctx.port, '/socket/websocket?token=half&vsn=2.0.0');
    const frame = encodeClientFrame('["1","1","room:half","phx_join",{}]');
    sock.write(frame.subarray(0, 9));
    await sleep(50);
    sock.destroy();
    // A handshake cut in the middle of its headers.
    const net = await import('node:net');
    const half = net.connect({ host: '127.0.0.1', port: ctx.port });
    await new Promise((resolve, reject) => {
      half.once('connect', resolve);
      half.once('error', reject);
    });
    half.write('GET /socket/websocket?token=x&vsn=2.0.0 HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: webs');
    await sleep(50);
    half.destroy();
    // A connection that closes right after a join while a broadcast is being delivered.
    const raw = await ctx.raw();
    await raw.joinOk('room:gone');
    const pending = ctx.broadcast('room:gone', 'e', { pad: 'z'.repeat(10_000) });
    raw.ws._socket.destroy();
    assert.equal((await pending).status, 202);
    await sleep(200);
    await assertServerServes();
  });

  test('a frame with a reserved opcode closes only that connection', async () => {
    const sock = await rawUpgrade(ctx.port, '/socket/websocket?token=op&vsn=2.0.0');
    sock.on('error', () => {});
    // Either a close frame (first byte 0x88) or the TCP connection ending counts.
    const ended = new Promise((resolve) => {
      sock.on('data', (d) => d[0] === 0x88 && resolve('close frame'));
      sock.once('close', () => resolve('tcp closed'));
    });
    sock.write(encodeClientFrame('hello', { opcode: 0x3 }));
    const how = await Promise.race([ended, sleep(3000).then(() => 'nothing')]);
    sock.destroy();
    assert.notEqual(how, 'nothing', 'the server should fail a connection that sends a reserved opcode');
    await assertServerServes();
  });

  test('the server process is still alive after all of the above', async () => {
    assert.ok(ctx.server.alive(), ctx.server.describe());
    await assertServerServes();
  });
});
