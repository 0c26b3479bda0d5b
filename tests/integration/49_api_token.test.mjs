// 49 - api_token: with it set, POST /api/broadcast needs "Authorization: Bearer <api_token>" (401
// otherwise, nothing is broadcast); without it the API is open, as in the demo contract.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { useServer } from './lib/harness.mjs';
import { collect, joinOk } from './lib/phx.mjs';
import { sleep, waitUntil } from './lib/util.mjs';

describe('api_token', { timeout: 20_000 }, () => {
  const ctx = useServer([], { env: { CINDER_API_TOKEN: 'backend-secret-1234' } });

  test('a broadcast needs the bearer token', async () => {
    const socket = await ctx.phx({ token: 'viewer' });
    const ch = socket.channel('telemetry:tok');
    const got = collect(ch, 'pos');
    await joinOk(ch);
    const body = { topic: 'telemetry:tok', event: 'pos', payload: { n: 1 } };
    for (const headers of [{}, { Authorization: 'Bearer wrong' }, { Authorization: 'backend-secret-1234' }]) {
      const r = await ctx.request({ body, headers });
      assert.equal(r.status, 401, JSON.stringify(headers));
    }
    await sleep(200);
    assert.equal(got.length, 0, 'nothing was broadcast without the token');
    const ok = await ctx.request({ body, headers: { Authorization: 'Bearer backend-secret-1234' } });
    assert.equal(ok.status, 202);
    await waitUntil(() => got.length === 1, 3000, 'the authorized broadcast');
  });
});
