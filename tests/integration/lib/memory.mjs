// A process's memory from /proc/PID/status: VmRSS (now) and VmHWM (its peak RSS), in KiB.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** {rss, hwm} in KiB for pid; undefined values once the process is gone. */
export function memory(pid) {
  let text = '';
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return { rss: undefined, hwm: undefined };
  }
  const field = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1]);
  return { rss: field('VmRSS'), hwm: field('VmHWM') };
}

/** KiB as "12.3 MiB". */
export function mib(kib) {
  return `${(kib / 1024).toFixed(1)} MiB`;
}

/** True when the cinder binary at `bin` is an AddressSanitizer build (its RSS is not comparable). */
export function isAsanBuild(bin) {
  try {
    return /libasan\.so/.test(execFileSync('ldd', [bin], { encoding: 'utf8', timeout: 5000 }));
  } catch {
    return false;
  }
}
