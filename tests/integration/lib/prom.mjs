// A parser for the Prometheus text exposition format 0.0.4 (what GET /metrics serves), strict enough
// to fail a test on a malformed line, and helpers to read values out of a parsed scrape.
//
//   const m = await scrape(port);                 // parsed and checked
//   value(m, 'cinder_connections', { transport: 'websocket' })   // a number, or undefined
//   m.families.get('cinder_disconnects_total').samples           // [{name, labels, value}]

import { request } from './http.mjs';

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function parseValue(s, line) {
  if (s === '+Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  if (s === 'NaN') return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) throw new Error(`bad value "${s}" in: ${line}`);
  return Number(s);
}

/** Parses `{a="x",b="y"}` starting at text[i] === '{'; returns [labels, index after '}']. */
function parseLabels(text, i, line) {
  const labels = {};
  i++; // '{'
  for (;;) {
    if (text[i] === '}') return [labels, i + 1];
    const eq = text.indexOf('=', i);
    if (eq < 0) throw new Error(`bad labels in: ${line}`);
    const name = text.slice(i, eq);
    if (!LABEL_NAME.test(name)) throw new Error(`bad label name "${name}" in: ${line}`);
    if (text[eq + 1] !== '"') throw new Error(`unquoted label value in: ${line}`);
    let j = eq + 2;
    let v = '';
    for (; j < text.length && text[j] !== '"'; j++) {
      if (text[j] === '\\') {
        const e = text[++j];
        if (e === 'n') v += '\n';
        else if (e === '\\' || e === '"') v += e;
        else throw new Error(`bad escape \\${e} in: ${line}`);
      } else v += text[j];
    }
    if (j >= text.length) throw new Error(`unterminated label value in: ${line}`);
    if (name in labels) throw new Error(`label ${name} twice in: ${line}`);
    labels[name] = v;
    i = j + 1;
    if (text[i] === ',') i++;
    else if (text[i] !== '}') throw new Error(`expected , or } in: ${line}`);
  }
}

/** The family a sample belongs to: its own name, or for histograms name minus _bucket/_sum/_count. */
function familyOf(families, name) {
  if (families.has(name)) return families.get(name);
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (name.endsWith(suffix)) {
      const f = families.get(name.slice(0, -suffix.length));
      if (f && (f.type === 'histogram' || f.type === 'summary')) return f;
    }
  }
  return undefined;
}

/**
 * Parses and checks an exposition: HELP and TYPE once per family and before its samples, every sample
 * in a declared family, no series twice, counters named *_total and never negative, histogram buckets
 * cumulative with +Inf equal to _count. Returns {families: Map(name -> {name, help, type, samples})}.
 */
export function parseExposition(text) {
  if (!text.endsWith('\n')) throw new Error('exposition does not end with a newline');
  const families = new Map();
  const seen = new Set();
  let current = null;
  for (const line of text.slice(0, -1).split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
      if (!m) {
        if (/^# (HELP|TYPE) /.test(line)) throw new Error(`bad comment: ${line}`);
        continue; // other comments are allowed
      }
      const [, kind, name, rest] = m;
      if (!NAME.test(name)) throw new Error(`bad metric name in: ${line}`);
      let f = families.get(name);
      if (!f) {
        // a family may have no samples (e.g. no disconnects yet)
        f = { name, help: undefined, type: undefined, samples: [] };
        families.set(name, f);
      } else if (f !== current) {
        throw new Error(`family ${name} is split: ${line}`);
      }
      if (kind === 'HELP') {
        if (f.help !== undefined) throw new Error(`HELP twice for ${name}`);
        f.help = rest;
      } else {
        if (f.type !== undefined) throw new Error(`TYPE twice for ${name}`);
        if (f.samples.length) throw new Error(`TYPE after samples for ${name}`);
        if (!TYPES.has(rest)) throw new Error(`bad type in: ${line}`);
        f.type = rest;
      }
      current = f;
      continue;
    }
    const nameEnd = line.search(/[{ ]/);
    if (nameEnd <= 0) throw new Error(`bad sample: ${line}`);
    const name = line.slice(0, nameEnd);
    if (!NAME.test(name)) throw new Error(`bad metric name in: ${line}`);
    let labels = {};
    let i = nameEnd;
    if (line[i] === '{') [labels, i] = parseLabels(line, i, line);
    const rest = line.slice(i).trim().split(/\s+/);
    if (rest.length < 1 || rest.length > 2) throw new Error(`bad sample: ${line}`);
    const value = parseValue(rest[0], line);
    const f = familyOf(families, name);
    if (!f || f !== current) throw new Error(`sample outside its family's HELP/TYPE block: ${line}`);
    const key = `${name}{${Object.entries(labels)
      .sort()
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join(',')}}`;
    if (seen.has(key)) throw new Error(`series twice: ${key}`);
    seen.add(key);
    f.samples.push({ name, labels, value });
  }
  for (const f of families.values()) {
    if (f.help === undefined || f.type === undefined) throw new Error(`family ${f.name} lacks HELP or TYPE`);
    if (f.type === 'counter') {
      if (!f.name.endsWith('_total')) throw new Error(`counter ${f.name} does not end in _total`);
      for (const s of f.samples) if (!(s.value >= 0)) throw new Error(`counter ${f.name} is ${s.value}`);
    }
    if (f.type === 'histogram') checkHistogram(f);
  }
  return { families };
}

function checkHistogram(f) {
  const series = new Map(); // labels without le -> {buckets: [[le, v]], sum, count}
  for (const s of f.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    if (!series.has(key)) series.set(key, { buckets: [], sum: undefined, count: undefined });
    const h = series.get(key);
    if (s.name === `${f.name}_bucket`) {
      if (le === undefined) throw new Error(`${f.name}_bucket without le`);
      h.buckets.push([parseValue(le, le), s.value]);
    } else if (s.name === `${f.name}_sum`) h.sum = s.value;
    else if (s.name === `${f.name}_count`) h.count = s.value;
  }
  for (const [key, h] of series) {
    if (h.sum === undefined || h.count === undefined) throw new Error(`${f.name} ${key}: no _sum or _count`);
    const last = h.buckets[h.buckets.length - 1];
    if (!last || last[0] !== Infinity) throw new Error(`${f.name} ${key}: last bucket is not +Inf`);
    for (let i = 1; i < h.buckets.length; i++) {
      if (!(h.buckets[i][0] > h.buckets[i - 1][0])) throw new Error(`${f.name} ${key}: le not increasing`);
      if (h.buckets[i][1] < h.buckets[i - 1][1]) throw new Error(`${f.name} ${key}: buckets not cumulative`);
    }
    if (last[1] !== h.count) throw new Error(`${f.name} ${key}: +Inf bucket ${last[1]} != _count ${h.count}`);
  }
}

/** The value of the sample `name` whose labels are exactly `labels`, or undefined. */
export function value(m, name, labels = {}) {
  const f = familyOf(m.families, name);
  if (!f) return undefined;
  const want = JSON.stringify(Object.entries(labels).sort());
  const s = f.samples.find((x) => x.name === name && JSON.stringify(Object.entries(x.labels).sort()) === want);
  return s ? s.value : undefined;
}

/** GET /metrics on port: checks status and content type, returns the parsed exposition (+ .text). */
export async function scrape(port) {
  const res = await request(port, { method: 'GET', path: '/metrics' });
  if (res.status !== 200) throw new Error(`GET /metrics: ${res.status} ${res.text}`);
  const type = res.headers['content-type'];
  if (type !== 'text/plain; version=0.0.4; charset=utf-8') throw new Error(`GET /metrics content-type: ${type}`);
  const m = parseExposition(res.text);
  m.text = res.text;
  return m;
}
