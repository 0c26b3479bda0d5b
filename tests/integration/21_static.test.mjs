// 21 - static files at / from --static-dir: index.html for "/", content types, cache-control,
// HEAD, 404 for what is not there, and no way out of the directory (.., encoded dots, NUL,
// backslashes, symlinks pointing outside). /socket/* and /api/* keep their answers.

import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';

import { useServer } from './lib/harness.mjs';
import { rawHttp } from './lib/http.mjs';
import { runCinder } from './lib/server.mjs';

// <tmp>/secret.txt, <tmp>/www/{index.html, app.js, style.css, data.json, notes.md, sub/index.html,
// .hidden.txt, inside.js -> app.js, outside.txt -> ../secret.txt, up -> ..}
const tmp = mkdtempSync(path.join(tmpdir(), 'cinder-static-'));
const root = path.join(tmp, 'www');
mkdirSync(path.join(root, 'sub'), { recursive: true });
writeFileSync(path.join(tmp, 'secret.txt'), 'SECRET');
writeFileSync(path.join(root, 'index.html'), '<!doctype html><title>cinder</title>');
writeFileSync(path.join(root, 'app.js'), 'export const x = 1;\n');
writeFileSync(path.join(root, 'style.css'), 'body{}');
writeFileSync(path.join(root, 'data.json'), '{"a":1}');
writeFileSync(path.join(root, 'notes.md'), '# notes');
writeFileSync(path.join(root, '.hidden.txt'), 'hidden');
writeFileSync(path.join(root, 'sub', 'index.html'), '<p>sub</p>');
symlinkSync('app.js', path.join(root, 'inside.js'));
symlinkSync('../secret.txt', path.join(root, 'outside.txt'));
symlinkSync('..', path.join(root, 'up'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** One raw request (the path is sent exactly as given): its response (undefined when the server
 * closed without one, as lws does for a decoded NUL) and the raw bytes. */
async function send(port, target, method = 'GET') {
  const { responses, raw } = await rawHttp(port, `${method} ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`, 2000);
  return { res: responses[0], raw };
}

async function get(port, target, method = 'GET') {
  const r = await send(port, target, method);
  assert.ok(r.res || method === 'HEAD', `no response to ${method} ${target}: ${JSON.stringify(r.raw)}`);
  return r;
}

describe('static files (--static-dir)', { timeout: 30_000 }, () => {
  const ctx = useServer(['--static-dir', root]);

  test('/ is index.html, no-cache; assets have their content types', async () => {
    const { res } = await get(ctx.port, '/');
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(res.headers['cache-control'], 'no-cache');
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    assert.equal(res.body, '<!doctype html><title>cinder</title>');
    const types = {
      '/index.html': 'text/html; charset=utf-8',
      '/app.js': 'text/javascript; charset=utf-8',
      '/style.css': 'text/css; charset=utf-8',
      '/data.json': 'application/json',
      '/sub/': 'text/html; charset=utf-8',
      '/inside.js': 'text/javascript; charset=utf-8',
    };
    for (const [p, type] of Object.entries(types)) {
      const r = (await get(ctx.port, p)).res;
      assert.equal(r.status, 200, `${p}: ${r.status} ${r.body}`);
      assert.equal(r.headers['content-type'], type, p);
    }
    assert.equal((await get(ctx.port, '/app.js?v=3')).res.body, 'export const x = 1;\n', 'a query string is ignored');
    assert.match((await get(ctx.port, '/app.js')).res.headers['cache-control'], /max-age=/);
  });

  test('HEAD answers the headers without a body', async () => {
    const { raw } = await get(ctx.port, '/app.js', 'HEAD');
    assert.match(raw, /^HTTP\/1\.1 200/);
    assert.match(raw, /content-length: 20\r\n/i);
    assert.ok(raw.endsWith('\r\n\r\n'), `HEAD must not carry a body: ${JSON.stringify(raw)}`);
  });

  test('404 for missing files, unknown types, directories, dot files', async () => {
    for (const p of ['/missing.js', '/notes.md', '/sub', '/.hidden.txt', '/nope/']) {
      const { res } = await get(ctx.port, p);
      assert.equal(res.status, 404, `${p}: ${res.status} ${res.body}`);
      assert.deepEqual(JSON.parse(res.body), { error: 'not found' });
    }
  });

  test('no path leaves the directory', async () => {
    const attempts = [
      '/../secret.txt',
      '/sub/../../secret.txt',
      '/%2e%2e/secret.txt',
      '/%2E%2E/%2E%2E/secret.txt',
      '/..%2fsecret.txt',
      '/%252e%252e/secret.txt',
      '/sub/..%5c..%5csecret.txt',
      '/..\\secret.txt',
      '/app.js%00/../../secret.txt',
      '/outside.txt',
      '/up/secret.txt',
      '//etc/passwd',
      '/%2f%2fetc/passwd',
      '/../../../../../../etc/passwd',
      `${tmp}/secret.txt`,
    ];
    for (const p of attempts) {
      const { res, raw } = await send(ctx.port, p);
      assert.ok(!raw.includes('SECRET') && !raw.includes('root:'), `${p} leaked: ${JSON.stringify(raw)}`);
      assert.ok(res === undefined || [400, 403, 404].includes(res.status), `${p}: ${res && res.status}`);
    }
    assert.ok(ctx.server.alive());
  });

  test('/socket/* and /api/* keep their answers', async () => {
    assert.equal((await get(ctx.port, '/socket/websocket')).res.status, 400);
    assert.equal((await get(ctx.port, '/api/broadcast')).res.status, 405);
    assert.equal((await get(ctx.port, '/api/index.html')).res.status, 404);
    assert.equal((await get(ctx.port, '/socket/index.html')).res.status, 404);
    const post = await ctx.request({ method: 'POST', path: '/index.html', body: {} });
    assert.equal(post.status, 404);
  });

  test('keep-alive: several files, one after the other, on one connection', async () => {
    // Browsers do not pipeline; libwebsockets 4.1.6 answers a request pipelined behind a file 403.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const fetchOne = (p) =>
      new Promise((resolve, reject) => {
        const req = http.get({ host: ctx.server.host, port: ctx.port, path: p, agent, timeout: 3000 }, (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (d) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode, body, reused: req.reusedSocket }));
        });
        req.on('timeout', () => req.destroy(new Error(`GET ${p} timed out`)));
        req.on('error', reject);
      });
    try {
      const got = [];
      for (const p of ['/app.js', '/style.css', '/', '/missing.js', '/app.js']) got.push(await fetchOne(p));
      assert.deepEqual(
        got.map((r) => r.status),
        [200, 200, 200, 404, 200],
      );
      assert.equal(got[1].body, 'body{}');
      assert.deepEqual(
        got.map((r) => r.reused),
        [false, true, true, true, true],
      );
    } finally {
      agent.destroy();
    }
  });
});

describe('static files off', { timeout: 20_000 }, () => {
  const ctx = useServer(['--static-dir', '']);

  test("--static-dir '' serves nothing", async () => {
    assert.equal((await get(ctx.port, '/')).res.status, 404);
  });
});

test('--static-dir must name a directory', async () => {
  const r = await runCinder(['--static-dir', path.join(tmp, 'nope')]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--static-dir.*not a directory/);
});
