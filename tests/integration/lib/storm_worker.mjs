// A child process of raw WebSocket clients that behave like phoenix.js sockets where a reconnect
// storm is concerned: each connects, joins a topic, heartbeats every 30 s, and after any failure
// (refused upgrade, connection refused, connection lost) reconnects after phoenix.js's backoff
// (10, 50, 100, 150, 200, 250, 500, 1000, 2000, then 5000 ms; reset once a connection opens) and
// joins again. Far lighter than 5,000 phoenix.js Socket objects.
//
//   fork(storm_worker.mjs, [port, count, firstUser, sourceAddress, topic])
//   -> the parent gets {joined, open, refused: {status: n}, connectErrors, drops} every 250 ms;
//      it sends 'stop' to end it (every socket terminated, then exit).

import WebSocket from 'ws';

const [port, count, first, src, topic] = process.argv.slice(2);
const BACKOFF = [10, 50, 100, 150, 200, 250, 500, 1000, 2000];
const stats = { joined: 0, open: 0, refused: {}, connectErrors: 0, drops: 0 };
let stopping = false;
const clients = [];

class Client {
  constructor(user) {
    this.user = user;
    this.tries = 0;
    this.ws = null;
    this.joined = false;
    this.isOpen = false;
    this.timer = null;
    this.beat = null;
  }

  connect() {
    this.timer = null;
    const ws = new WebSocket(`ws://127.0.0.1:${port}/socket/websocket?token=${this.user}&vsn=2.0.0`, {
      perMessageDeflate: false,
      localAddress: src,
      handshakeTimeout: 10_000,
    });
    this.ws = ws;
    let refusedWith = null;
    ws.on('unexpected-response', (req, res) => {
      refusedWith = res.statusCode;
      stats.refused[refusedWith] = (stats.refused[refusedWith] ?? 0) + 1;
      res.resume();
      ws.terminate();
    });
    ws.on('open', () => {
      this.tries = 0;
      this.isOpen = true;
      stats.open++;
      ws.send(JSON.stringify(['1', '1', topic, 'phx_join', {}]));
      this.beat = setInterval(() => ws.send(JSON.stringify([null, 'hb', 'phoenix', 'heartbeat', {}])), 30_000);
    });
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString());
      if (m[1] === '1' && m[3] === 'phx_reply' && m[4].status === 'ok' && !this.joined) {
        this.joined = true;
        stats.joined++;
      }
    });
    ws.on('error', () => {
      if (!this.isOpen && refusedWith === null) stats.connectErrors++;
    });
    ws.on('close', () => {
      clearInterval(this.beat);
      if (this.isOpen) stats.drops++;
      if (this.isOpen) stats.open--;
      if (this.joined) stats.joined--;
      this.isOpen = false;
      this.joined = false;
      if (stopping) return;
      this.tries++;
      this.timer = setTimeout(() => this.connect(), BACKOFF[this.tries - 1] ?? 5000);
    });
  }

  stop() {
    clearTimeout(this.timer);
    clearInterval(this.beat);
    this.ws?.terminate();
  }
}

for (let i = 0; i < Number(count); i++) {
  const c = new Client(`storm${Number(first) + i}`);
  clients.push(c);
  c.connect();
}
const report = setInterval(() => process.send({ ...stats, refused: { ...stats.refused } }), 250);
process.on('message', (msg) => {
  if (msg !== 'stop') return;
  stopping = true;
  clearInterval(report);
  for (const c of clients) c.stop();
  process.send({ ...stats, refused: { ...stats.refused }, final: true }, () => process.exit(0));
});
process.on('disconnect', () => process.exit(0)); // the test runner went away
