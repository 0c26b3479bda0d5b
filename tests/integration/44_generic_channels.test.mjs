// 44 - generic channels (issue 6): channels configured in the config file (-c FILE), no C. Join
// rules any / deny / claim (the JWT's "channels" claim), client_publish on and off, presence on and
// off, max_subscribers, the demo's own routes behind them; checkconfig naming a bad entry; and a
// SIGHUP reload that changes a channel's rules for new joins while joined channels keep theirs.

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';

import { useServer } from './lib/harness.mjs';
import { collect, connect, disconnect, join, joinOk, makeSocket, push, waitFor } from './lib/phx.mjs';
import { CinderServer, runCinder } from './lib/server.mjs';
import { sleep, waitUntil } from './lib/util.mjs';

const SECRET = 'generic-channels-secret-0123456789abcdef';
const dir = mkdtempSync(path.join(tmpdir(), 'cinder-generic-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function writeConfig(name, obj) {
  const p = path.join(dir, name);
  writeFileSync(p, typeof obj === 'string' ? obj : JSON.stringify(obj, null, 2));
  return p;
}

const b64url = (s) => Buffer.from(s).toString('base64url');
function sign(claims) {
  const head = `${b64url('{"alg":"HS256","typ":"JWT"}')}.${b64url(JSON.stringify(claims))}`;
  return `${head}.${createHmac('sha256', SECRET).update(head).digest('base64url')}`;
}
const tokenFor = (sub, extra = {}) => sign({ sub, exp: Math.floor(Date.now() / 1000) + 300, ...extra });

const CHANNELS = [
  { pattern: 'chat:*', join: 'any', client_publish: true, presence: true },
  { pattern: 'news:*', join: 'any' },
  { pattern: 'admin:*', join: 'deny' },
  { pattern: 'private:*', join: 'claim', client_publish: true },
  { pattern: 'duo:*', max_subscribers: 2 },
  { pattern: 'room:vip', join: 'deny' },
];

describe('configured channels', { timeout: 60_000 }, () => {
  const ctx = useServer(['-c', writeConfig('channels.json', { jwt_secret: SECRET, channels: CHANNELS })]);
  const sock = (user, extra) => ctx.phx({ token: tokenFor(user, extra) });

  test('join: any, deny, and the demo routes behind the configured ones', async () => {
    const s = await sock('ann');
    await joinOk(s.channel('news:1'));
    assert.deepEqual(await join(s.channel('admin:1')), { status: 'error', response: { reason: 'unauthorized' } });
    assert.deepEqual(await join(s.channel('room:vip')), { status: 'error', response: { reason: 'unauthorized' } });
    const lobby = s.channel('room:lobby'); // the demo's room:*
    await joinOk(lobby);
    assert.deepEqual((await push(lobby, 'ping', { n: 1 })).response, { n: 1 });
    assert.deepEqual(await join(s.channel('nowhere:1')), { status: 'error', response: { reason: 'unmatched topic' } });
  });

  test("join: claim admits only topics matching the token's channels claim", async () => {
    const owner = await sock('ann', { channels: ['private:ann*', 'private:shared'] });
    await joinOk(owner.channel('private:ann'));
    await joinOk(owner.channel('private:ann:notes'));
    await joinOk(owner.channel('private:shared'));
    assert.deepEqual(await join(owner.channel('private:ben')), { status: 'error', response: { reason: 'unauthorized' } });
    const other = await sock('ben'); // no claim at all
    assert.deepEqual(await join(other.channel('private:shared')), { status: 'error', response: { reason: 'unauthorized' } });
  });

  test('client_publish: on broadcasts any event to the topic (sender included), off is refused', async () => {
    const a = await sock('ann');
    const b = await sock('ben');
    const ca = a.channel('chat:pub');
    const cb = b.channel('chat:pub');
    await joinOk(ca);
    await joinOk(cb);
    const atB = waitFor(cb, 'typing');
    const atA = waitFor(ca, 'typing');
    assert.deepEqual(await push(ca, 'typing', { who: 'ann' }), { status: 'ok', response: {} });
    assert.deepEqual(await atB, { who: 'ann' });
    assert.deepEqual(await atA, { who: 'ann' });
    assert.deepEqual(await push(ca, 'presence_diff', { joins: {}, leaves: {} }), {
      status: 'error',
      response: { reason: 'reserved event' },
    });
    const news = a.channel('news:pub');
    await joinOk(news);
    assert.deepEqual(await push(news, 'typing', {}), { status: 'error', response: { reason: 'publish not allowed' } });
    // Backends still publish to it.
    const got = waitFor(news, 'headline');
    await ctx.broadcast('news:pub', 'headline', { t: 'x' });
    assert.deepEqual(await got, { t: 'x' });
  });

  test('presence: on tracks the joiner by its sub; off sends no presence at all', async () => {
    const a = await sock('ann');
    const chat = a.channel('chat:presence');
    const state = waitFor(chat, 'presence_state');
    await joinOk(chat);
    assert.deepEqual(Object.keys(await state), ['ann']);
    const b = await sock('ben');
    const diff = waitFor(chat, 'presence_diff', { filter: (d) => 'ben' in d.joins });
    await joinOk(b.channel('chat:presence'));
    await diff;
    const news = a.channel('news:presence');
    const events = collect(news, 'presence_state');
    await joinOk(news);
    await sleep(200);
    assert.equal(events.length, 0);
  });

  test('max_subscribers: a full topic refuses joins until someone leaves', async () => {
    const [a, b, c] = await Promise.all(['ann', 'ben', 'cy'].map((u) => sock(u)));
    const ca = a.channel('duo:1');
    await joinOk(ca);
    await joinOk(b.channel('duo:1'));
    assert.deepEqual(await join(c.channel('duo:1')), { status: 'error', response: { reason: 'channel full' } });
    await joinOk(c.channel('duo:2'));
    await new Promise((resolve) => ca.leave().receive('ok', resolve));
    await joinOk(c.channel('duo:1', {}));
  });
});

describe('checkconfig on channels', () => {
  test('a bad entry is named with its index and key; a good one passes', async () => {
    const bad = writeConfig('bad.json', { channels: [{ pattern: 'chat:*' }, { pattern: 'x:*', join: 'whoever' }] });
    let r = await runCinder(['checkconfig', '-c', bad]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /bad\.json: "channels": channels\[1\]\.join: "any", "deny" or "claim" expected/);
    const typo = writeConfig('typo.json', { channels: [{ pattern: 'chat:*', client_pubish: true }] });
    r = await runCinder(['checkconfig', '-c', typo]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /channels\[0\]: unknown key "client_pubish"/);
    const shadow = writeConfig('shadow.json', { channels: [{ pattern: 'chat:*' }, { pattern: 'chat:vip' }] });
    r = await runCinder(['checkconfig', '-c', shadow]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /"chat:vip" can never match/);
    r = await runCinder(['checkconfig', '-c', writeConfig('good.json', { channels: CHANNELS })]);
    assert.equal(r.code, 0, r.stderr);
    r = await runCinder(['--channels', '[]']);
    assert.equal(r.code, 2, 'no flag sets channels');
  });
});

describe('reload', { timeout: 60_000 }, () => {
  test('SIGHUP changes a channel for new joins; joined channels keep their rules; a bad file is rejected', async () => {
    const cfg = writeConfig('reload.json', { channels: [{ pattern: 'chat:*', client_publish: true }] });
    const server = new CinderServer(['-c', cfg]);
    await server.start();
    try {
      const a = await connect(makeSocket(server, { token: 'ann' }));
      const old = a.channel('chat:1');
      await joinOk(old);
      assert.deepEqual(await push(old, 'msg', {}), { status: 'ok', response: {} });

      writeConfig('reload.json', { channels: [{ pattern: 'chat:*', client_publish: false, presence: true }] });
      server.proc.kill('SIGHUP');
      await waitUntil(() => /reloaded settings/.test(server.stderr()), 3000, 'the reload log line');

      const b = await connect(makeSocket(server, { token: 'ben' }));
      const fresh = b.channel('chat:1');
      const state = waitFor(fresh, 'presence_state');
      await joinOk(fresh);
      assert.deepEqual(Object.keys(await state), ['ben'], 'the new rules: presence on');
      assert.deepEqual(await push(fresh, 'msg', {}), { status: 'error', response: { reason: 'publish not allowed' } });
      const seen = waitFor(fresh, 'msg');
      assert.deepEqual(await push(old, 'msg', { still: true }), { status: 'ok', response: {} }, 'joined before: old rules');
      assert.deepEqual(await seen, { still: true });

      writeConfig('reload.json', { channels: [{ pattern: 'chat:*', join: 'maybe' }] });
      server.proc.kill('SIGHUP');
      await waitUntil(() => /reload rejected.*channels\[0\]\.join/.test(server.stderr()), 3000, 'the rejection');
      const again = b.channel('chat:2');
      await joinOk(again);
      assert.deepEqual(await push(again, 'msg', {}), { status: 'error', response: { reason: 'publish not allowed' } });

      // The old channel leaves: the set it held goes (the sanitizer build checks nothing leaks).
      await new Promise((resolve) => old.leave().receive('ok', resolve));
      await disconnect(a);
      await disconnect(b);
    } finally {
      await server.stop();
    }
  });
});
