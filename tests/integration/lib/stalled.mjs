// Raw WebSocket clients that join a topic and then stop reading, in a python3 child process
// (stalled_clients.py says why not Node: socket buffer sizes). The test can freeze the whole process
// (SIGSTOP: a peer that vanished without FIN or RST), thaw it, make it read everything to the end and
// report how each connection ended, or kill it.
//
//   const st = await StalledClients.start({ port, count: 1000, topic: 'telemetry:x' });
//   ...  st.stop(); st.cont();  const ends = await st.drain();   // {"1008": 990, "eof": 10}
//   await st.close();

import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { withTimeout } from './util.mjs';

const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'stalled_clients.py');

export class StalledClients {
  /**
   * Spawns the clients and resolves once all `count` joined `topic` (bounded by `timeout`). With
   * keepReading they read (and discard) everything until frozen with stop(); else they never read.
   */
  static async start({ port, count, topic, prefix = 'stalled', src = '127.0.0.1', keepReading = false, timeout = 60_000 }) {
    const st = new StalledClients(
      spawn('python3', [SCRIPT, '--port', String(port), '--count', String(count), '--topic', topic, '--prefix', prefix, '--src', src, ...(keepReading ? ['--keep-reading'] : [])], {
        stdio: ['pipe', 'pipe', 'pipe'],
      }),
    );
    try {
      const line = await withTimeout(st.nextLine(), timeout, `${count} stalled clients to join ${topic}`);
      if (line !== `ready ${count}`) throw new Error(`stalled clients: ${line}`);
    } catch (err) {
      await st.close();
      throw new Error(`${err.message}\n${st.stderr}`);
    }
    return st;
  }

  constructor(proc) {
    this.proc = proc;
    this.stderr = '';
    this.lines = [];
    this.waiting = null;
    let buf = '';
    proc.stdout.setEncoding('utf8').on('data', (d) => {
      buf += d;
      for (let i; (i = buf.indexOf('\n')) >= 0; ) {
        this.lines.push(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
      if (this.waiting && this.lines.length) this.waiting(this.lines.shift());
    });
    proc.stderr.setEncoding('utf8').on('data', (d) => (this.stderr = (this.stderr + d).slice(-8000)));
    this.exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
    this.exited.then(() => this.waiting?.(`exited: ${this.stderr.trim()}`));
  }

  nextLine() {
    if (this.lines.length) return Promise.resolve(this.lines.shift());
    return new Promise((resolve) => {
      this.waiting = (l) => {
        this.waiting = null;
        resolve(l);
      };
    });
  }

  get pid() {
    return this.proc.pid;
  }

  /** SIGSTOP: the process holds its sockets and does nothing, its kernel still ACKs. */
  stop() {
    this.proc.kill('SIGSTOP');
  }

  cont() {
    this.proc.kill('SIGCONT');
  }

  /**
   * Reads every socket to its end, for at most `seconds`; resolves how they ended, e.g.
   * {"1008": 998, "eof": 2} ("open": still open after `seconds`).
   */
  async drain(seconds = 10) {
    this.proc.stdin.write(`drain ${seconds}\n`);
    const line = await withTimeout(this.nextLine(), seconds * 1000 + 10_000, 'the stalled clients to drain');
    if (!line.startsWith('drained ')) throw new Error(`stalled clients: ${line}`);
    return JSON.parse(line.slice('drained '.length));
  }

  /** Ends the process (SIGKILL after a second if it does not exit on its own). */
  async close() {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    this.proc.kill('SIGCONT');
    this.proc.stdin.end('exit\n');
    try {
      await withTimeout(this.exited, 1000, 'stalled clients to exit');
    } catch {
      this.proc.kill('SIGKILL');
      await withTimeout(this.exited, 3000, 'stalled clients to die').catch(() => {});
    }
  }
}
