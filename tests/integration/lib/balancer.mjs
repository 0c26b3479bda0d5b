// A TCP load balancer in front of cinder nodes, as one in production would be: it checks each
// backend's GET /ready every 50 ms and sends a new connection to the first ready backend; when that
// backend refuses the TCP connection (killed since the last check), it tries the next, ready ones
// first. Bytes are piped both ways untouched; closing either side closes the other.
//
//   const lb = await balancer([A.port, B.port]);   // ws://127.0.0.1:${lb.port}/socket
//   lb.routed   // Map(backend port -> connections sent there)
//   await lb.close();

import http from 'node:http';
import net from 'node:net';

import { HOST } from './server.mjs';
import { sleep } from './util.mjs';

/** Resolves true when GET /ready on port answers 200 within 500 ms. */
export function ready(port) {
  return new Promise((resolve) => {
    const rq = http.get({ host: HOST, port, path: '/ready', timeout: 500, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    rq.on('error', () => resolve(false));
    rq.on('timeout', () => {
      rq.destroy();
      resolve(false);
    });
  });
}

export async function balancer(backends) {
  const healthy = new Map(backends.map((p) => [p, true]));
  const routed = new Map(backends.map((p) => [p, 0]));
  const open = new Set();
  let stopped = false;
  const checks = (async () => {
    while (!stopped) {
      await Promise.all(backends.map(async (p) => healthy.set(p, await ready(p))));
      await sleep(50);
    }
  })();

  const server = net.createServer((client) => {
    client.pause();
    open.add(client);
    const order = [...backends.filter((p) => healthy.get(p)), ...backends.filter((p) => !healthy.get(p))];
    const attempt = (i) => {
      if (i >= order.length || client.destroyed) {
        client.destroy();
        return;
      }
      const upstream = net.connect({ host: HOST, port: order[i] });
      let connected = false;
      upstream.once('error', () => {
        if (!connected) attempt(i + 1); // refused: the next backend
      });
      upstream.once('connect', () => {
        connected = true;
        routed.set(order[i], routed.get(order[i]) + 1);
        open.add(upstream);
        const end = () => {
          client.destroy();
          upstream.destroy();
          open.delete(client);
          open.delete(upstream);
        };
        client.on('error', end);
        upstream.on('error', end);
        client.on('close', end);
        upstream.on('close', end);
        client.pipe(upstream).pipe(client);
        client.resume();
      });
    };
    client.on('error', () => client.destroy());
    attempt(0);
  });
  await new Promise((r) => server.listen(0, HOST, r));
  return {
    port: server.address().port,
    routed,
    healthy,
    async close() {
      stopped = true;
      for (const s of open) s.destroy();
      await new Promise((r) => server.close(r));
      await checks;
    },
  };
}
