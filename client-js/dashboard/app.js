// The fleet dashboard: draws every `position` event on telemetry:fleet ({id, lat, lon, speed, heading,
// ts}, whoever publishes it) on a canvas, lists who is watching (Presence on room:dashboard, one key per
// viewer name), and shows messages per second and the connection state. No map tiles: a local
// equirectangular projection with a metric grid, so it works offline.
//
// URL parameters: ?name=N (viewer name, default a random one), ?socket=ws://host:port/socket
// (default: this page's origin), ?topic=T (default telemetry:fleet).

import { createSocket, presenceList, watchConnection } from './vendor/cinder-client/index.js';

const params = new URLSearchParams(location.search);
const TOPIC = params.get('topic') || 'telemetry:fleet';
const ROOM = 'room:dashboard';
const STALE_MS = 10_000; // drawn grey after this long without a point
const FORGET_MS = 120_000; // dropped after this long
const TRAIL_MS = 20_000; // trail: the reported points of the last 20 s
const TRAIL_MAX = 100; // ... at most this many per vehicle
const EARTH_RADIUS_M = 6_371_000;
const DEG = Math.PI / 180;

const $ = (id) => document.getElementById(id);

function randomName() {
  const adjectives = ['amber', 'brisk', 'calm', 'dusky', 'eager', 'fuzzy', 'gentle', 'hazel', 'ivory', 'jolly', 'keen', 'lucky'];
  const animals = ['otter', 'heron', 'lynx', 'badger', 'falcon', 'marten', 'ibis', 'fox', 'wren', 'stoat', 'puffin', 'hare'];
  const pick = (list) => list[Math.floor(Math.random() * list.length)];
  return `${pick(adjectives)}-${pick(animals)}-${Math.floor(Math.random() * 90 + 10)}`;
}

const me = params.get('name') || randomName();
const endpoint = params.get('socket') || `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/socket`;

// ---- state ----------------------------------------------------------------------------------------

/** id -> {x, y (metres from the origin), dx, dy (drawn), speed, heading, ts, seen, trail: [[x, y, seen]]} */
const vehicles = new Map();
/** The projection origin: the first point received. */
let origin = null;
let received = 0;
let rate = 0;
const buckets = new Array(8).fill(0); // events per 250 ms, the last 2 s
let bucketAt = performance.now();
let connection = { state: 'connecting', attempts: 0 };
let fleetJoined = false;
let viewers = [];

function project(lat, lon) {
  if (!origin) origin = { lat, lon, cos: Math.cos(lat * DEG) };
  return {
    x: (lon - origin.lon) * DEG * EARTH_RADIUS_M * origin.cos,
    y: (lat - origin.lat) * DEG * EARTH_RADIUS_M,
  };
}

function onPosition(p) {
  if (!p || (typeof p.id !== 'string' && typeof p.id !== 'number')) return;
  const lat = Number(p.lat);
  const lon = Number(p.lon);
  if (!Number.isFinite(lat) || !Number.isFinite(lon) || Math.abs(lat) > 90 || Math.abs(lon) > 180) return;
  received += 1;
  buckets[buckets.length - 1] += 1;
  const { x, y } = project(lat, lon);
  const id = String(p.id);
  let v = vehicles.get(id);
  if (!v) {
    v = { x, y, dx: x, dy: y, trail: [] };
    vehicles.set(id, v);
  }
  v.x = x;
  v.y = y;
  v.speed = Number.isFinite(p.speed) ? p.speed : null;
  v.heading = Number.isFinite(p.heading) ? p.heading : v.heading ?? null;
  v.ts = p.ts;
  v.seen = performance.now();
  v.trail.push([x, y, v.seen]);
  while (v.trail.length > TRAIL_MAX || v.seen - v.trail[0][2] > TRAIL_MS) v.trail.shift();
}

// ---- connection -----------------------------------------------------------------------------------

const socket = createSocket(endpoint, { token: me });
watchConnection(socket, (status) => {
  connection = status;
  if (status.state !== 'open') fleetJoined = false;
  renderStatus();
});

const fleet = socket.channel(TOPIC, {});
fleet.on('position', onPosition);
fleet.onError(() => {
  fleetJoined = false;
  renderStatus();
});
// The join push's hooks fire again on every rejoin (after a reconnect), so they stay registered.
fleet
  .join()
  .receive('ok', () => {
    fleetJoined = true;
    renderStatus();
  })
  .receive('error', (reply) => console.warn(`join ${TOPIC} refused`, reply));

const room = socket.channel(ROOM, {});
const presence = presenceList(room);
presence.onChange((list) => {
  viewers = list;
  renderViewers();
});
room.join().receive('error', (reply) => console.warn(`join ${ROOM} refused`, reply));

// ---- DOM ------------------------------------------------------------------------------------------

function renderStatus() {
  const el = $('status');
  let state = connection.state;
  let text = 'connecting…';
  if (state === 'open' && fleetJoined) {
    state = 'live';
    text = 'live';
  } else if (state === 'open') {
    state = 'joining';
    text = 'joining…';
  } else if (state === 'reconnecting') {
    text = `reconnecting… (attempt ${connection.attempts})`;
  } else if (state === 'closed') {
    text = 'offline';
  }
  el.dataset.state = state;
  el.textContent = text;
  // The presence list is only known to be current while connected.
  $('watchers').classList.toggle('stale', connection.state !== 'open');
}

function renderViewers() {
  const ul = $('viewers');
  ul.replaceChildren(
    ...viewers.map(({ id, metas }) => {
      const li = document.createElement('li');
      li.textContent = id;
      li.dataset.id = id;
      if (id === me) li.className = 'me';
      if (metas.length > 1) {
        const small = document.createElement('small');
        small.textContent = ` ×${metas.length}`;
        li.append(small);
      }
      return li;
    }),
  );
  $('viewer-count').textContent = String(viewers.length);
}

function renderStats(now) {
  let active = 0;
  for (const [id, v] of vehicles) {
    if (now - v.seen > FORGET_MS) vehicles.delete(id);
    else if (now - v.seen <= STALE_MS) active += 1;
  }
  $('vehicle-count').textContent = String(active);
  $('rate').textContent = String(Math.round(rate));
  $('received').textContent = received.toLocaleString('en');
  $('empty').hidden = vehicles.size > 0;
}

$('me').textContent = me;
$('topic').textContent = TOPIC;
$('origin').textContent = location.origin;
renderStatus();

// ---- drawing --------------------------------------------------------------------------------------

const canvas = $('canvas');
const ctx = canvas.getContext('2d');
const view = { cx: 0, cy: 0, span: 2000, ready: false }; // metres: center and the shorter side's extent

/** The smallest 1/2/5 x 10^k metres that is at least `m`. */
function niceStep(m) {
  const p = 10 ** Math.floor(Math.log10(m));
  for (const k of [1, 2, 5, 10]) if (k * p >= m) return k * p;
  return 10 * p;
}

const formatMetres = (m) => (m >= 1000 ? `${m / 1000} km` : `${m} m`);

function speedColor(v, stale) {
  if (stale) return '#55606b';
  if (v.speed === null) return '#9aa5b1';
  // 0 m/s red -> 8 m/s amber -> 14+ m/s green
  const hue = Math.max(0, Math.min(140, (v.speed / 14) * 140));
  return `hsl(${hue}, 80%, 58%)`;
}

function fitView(dt) {
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (const v of vehicles.values()) {
    minX = Math.min(minX, v.x);
    maxX = Math.max(maxX, v.x);
    minY = Math.min(minY, v.y);
    maxY = Math.max(maxY, v.y);
  }
  if (minX === Infinity) return;
  const target = {
    cx: (minX + maxX) / 2,
    cy: (minY + maxY) / 2,
    span: Math.max(400, Math.max(maxX - minX, maxY - minY) * 1.15),
  };
  const k = view.ready ? Math.min(1, dt * 1.5) : 1;
  view.cx += (target.cx - view.cx) * k;
  view.cy += (target.cy - view.cy) * k;
  view.span += (target.span - view.span) * k;
  view.ready = true;
}

function draw(now, dt) {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth;
  const h = canvas.clientHeight;
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
  }
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.fillStyle = '#0f1419';
  ctx.fillRect(0, 0, w, h);
  fitView(dt);
  const scale = Math.min(w, h) / view.span; // px per metre
  const sx = (x) => w / 2 + (x - view.cx) * scale;
  const sy = (y) => h / 2 - (y - view.cy) * scale;

  // Grid: lines every `step` metres of the local frame, every fifth one brighter.
  const step = niceStep(view.span / 8);
  const x0 = view.cx - w / 2 / scale;
  const x1 = view.cx + w / 2 / scale;
  const y0 = view.cy - h / 2 / scale;
  const y1 = view.cy + h / 2 / scale;
  ctx.lineWidth = 1;
  for (let gx = Math.floor(x0 / step) * step; gx <= x1; gx += step) {
    ctx.strokeStyle = Math.round(gx / step) % 5 === 0 ? '#263442' : '#1a232c';
    ctx.beginPath();
    ctx.moveTo(Math.round(sx(gx)) + 0.5, 0);
    ctx.lineTo(Math.round(sx(gx)) + 0.5, h);
    ctx.stroke();
  }
  for (let gy = Math.floor(y0 / step) * step; gy <= y1; gy += step) {
    ctx.strokeStyle = Math.round(gy / step) % 5 === 0 ? '#263442' : '#1a232c';
    ctx.beginPath();
    ctx.moveTo(0, Math.round(sy(gy)) + 0.5);
    ctx.lineTo(w, Math.round(sy(gy)) + 0.5);
    ctx.stroke();
  }
  $('grid-step').textContent = formatMetres(step);
  // Scale bar and north arrow.
  ctx.fillStyle = '#7d8a96';
  ctx.strokeStyle = '#7d8a96';
  ctx.font = '12px system-ui, sans-serif';
  ctx.beginPath();
  ctx.moveTo(16, h - 16);
  ctx.lineTo(16 + step * scale, h - 16);
  ctx.stroke();
  ctx.fillText(formatMetres(step), 16, h - 22);
  ctx.fillText('N ↑', w - 34, 22);
  if (origin) ctx.fillText(`${origin.lat.toFixed(4)}, ${origin.lon.toFixed(4)}`, w - 120, h - 12);

  // Vehicles: a fading trail of reported points, then an arrow along the heading at the drawn position,
  // which eases toward the last reported one so movement looks continuous between reports.
  const ease = Math.min(1, dt * 6);
  const size = vehicles.size > 300 ? 4 : 6;
  for (const v of vehicles.values()) {
    const stale = now - v.seen > STALE_MS;
    v.dx += (v.x - v.dx) * ease;
    v.dy += (v.y - v.dy) * ease;
    const color = speedColor(v, stale);
    if (v.trail.length > 1) {
      ctx.strokeStyle = color;
      ctx.globalAlpha = 0.35;
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      ctx.moveTo(sx(v.trail[0][0]), sy(v.trail[0][1]));
      for (const [tx, ty] of v.trail) ctx.lineTo(sx(tx), sy(ty));
      ctx.lineTo(sx(v.dx), sy(v.dy));
      ctx.stroke();
      ctx.globalAlpha = 1;
    }
    const px = sx(v.dx);
    const py = sy(v.dy);
    ctx.fillStyle = color;
    if (v.heading === null) {
      ctx.beginPath();
      ctx.arc(px, py, size * 0.6, 0, 2 * Math.PI);
      ctx.fill();
      continue;
    }
    const a = v.heading * DEG; // clockwise from north = up
    ctx.save();
    ctx.translate(px, py);
    ctx.rotate(a);
    ctx.beginPath();
    ctx.moveTo(0, -size);
    ctx.lineTo(size * 0.65, size * 0.75);
    ctx.lineTo(0, size * 0.35);
    ctx.lineTo(-size * 0.65, size * 0.75);
    ctx.closePath();
    ctx.fill();
    ctx.restore();
  }
}

let last = performance.now();
let statsAt = 0;
function frame(now) {
  const dt = Math.min(0.25, (now - last) / 1000);
  last = now;
  while (now - bucketAt >= 250) {
    bucketAt += 250;
    buckets.shift();
    buckets.push(0);
    if (now - bucketAt > 2000) bucketAt = now; // after a hidden tab: start over
  }
  if (now - statsAt >= 250) {
    statsAt = now;
    rate = buckets.slice(0, -1).reduce((a, b) => a + b, 0) / ((buckets.length - 1) * 0.25);
    renderStats(now);
  }
  draw(now, dt);
  requestAnimationFrame(frame);
}
requestAnimationFrame(frame);

// For tests and the curious: the live state.
window.cinderDashboard = {
  me,
  topic: TOPIC,
  socket,
  vehicles,
  get status() {
    return $('status').dataset.state;
  },
  get viewers() {
    return viewers.map((e) => e.id);
  },
  get received() {
    return received;
  },
  get rate() {
    return rate;
  },
};
