// The fleet model behind cinder-fleet: vehicles driving a street grid around a city center.
//
// Streets run north-south and east-west every `blockM` metres inside `radiusM` of the center. A vehicle
// drives along a street toward the next intersection at a cruising speed of its own (8 to 16 m/s),
// accelerating and braking at most 2.5 m/s², stops at some intersections for a few seconds (lights),
// and at each intersection goes straight, turns left or right (turning back toward the center near the
// edge). Each step moves it exactly speed x dt metres along its heading, so consecutive points agree
// with the speed and heading they carry.
//
// Positions are metres east/north of the center, projected to lat/lon on a local equirectangular
// approximation (good to well under a metre over a few kilometres). Heading is degrees clockwise from
// true north, speed metres per second, like the browser Geolocation API's coords.heading / coords.speed.

const EARTH_RADIUS_M = 6_371_000;
const DEG = Math.PI / 180;
const ACCEL = 2.5; // m/s², both ways
const HEADINGS = [0, 90, 180, 270]; // north, east, south, west
const UNIT = {
  0: [0, 1],
  90: [1, 0],
  180: [0, -1],
  270: [-1, 0],
};

/** Mulberry32: a small seeded PRNG, so a seed replays the same fleet. */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Metres east/north of (lat0, lon0) -> {lat, lon}. */
export function toLatLon(lat0, lon0, x, y) {
  return {
    lat: lat0 + y / EARTH_RADIUS_M / DEG,
    lon: lon0 + x / (EARTH_RADIUS_M * Math.cos(lat0 * DEG)) / DEG,
  };
}

/** Great-circle distance in metres (haversine). */
export function distanceM(a, b) {
  const dLat = (b.lat - a.lat) * DEG;
  const dLon = (b.lon - a.lon) * DEG;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * DEG) * Math.cos(b.lat * DEG) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.sqrt(h));
}

/** Initial bearing from a to b, degrees clockwise from north in [0, 360). */
export function bearingDeg(a, b) {
  const y = Math.sin((b.lon - a.lon) * DEG) * Math.cos(b.lat * DEG);
  const x = Math.cos(a.lat * DEG) * Math.sin(b.lat * DEG) - Math.sin(a.lat * DEG) * Math.cos(b.lat * DEG) * Math.cos((b.lon - a.lon) * DEG);
  return (Math.atan2(y, x) / DEG + 360) % 360;
}

const round = (v, digits) => Math.round(v * 10 ** digits) / 10 ** digits;

export class Fleet {
  /**
   * @param {{vehicles?: number, center?: {lat: number, lon: number}, radiusM?: number, blockM?: number,
   *   seed?: number, idPrefix?: string}} [opts]
   */
  constructor(opts = {}) {
    this.center = opts.center ?? { lat: 48.8566, lon: 2.3522 };
    this.radiusM = opts.radiusM ?? 3000;
    this.blockM = opts.blockM ?? 200;
    this.random = rng(opts.seed ?? 1);
    const n = opts.vehicles ?? 100;
    const prefix = opts.idPrefix ?? 'v';
    const width = String(n).length;
    this.vehicles = [];
    const blocks = Math.floor(this.radiusM / this.blockM);
    for (let i = 0; i < n; i++) {
      // Start at a random intersection inside the radius, heading along one of its streets.
      let ix, iy;
      do {
        ix = Math.round((this.random() * 2 - 1) * blocks);
        iy = Math.round((this.random() * 2 - 1) * blocks);
      } while (Math.hypot(ix, iy) * this.blockM > this.radiusM * 0.9);
      const heading = HEADINGS[Math.floor(this.random() * 4)];
      this.vehicles.push({
        id: `${prefix}${String(i + 1).padStart(width, '0')}`,
        x: ix * this.blockM,
        y: iy * this.blockM,
        heading,
        speed: 0,
        cruise: 8 + this.random() * 8,
        wait: this.random() * 3, // seconds still stopped
        target: this.nextIntersection(ix * this.blockM, iy * this.blockM, heading),
        stopAhead: this.random() < 0.2, // stops (a red light) at its next intersection
      });
    }
  }

  /** The intersection one block ahead of (x, y) along heading. */
  nextIntersection(x, y, heading) {
    const [ux, uy] = UNIT[heading];
    return { x: x + ux * this.blockM, y: y + uy * this.blockM };
  }

  /** At an intersection: straight on, or a turn; back toward the center when near the edge. */
  chooseHeading(v) {
    const r = this.random();
    let heading = r < 0.6 ? v.heading : r < 0.8 ? (v.heading + 90) % 360 : (v.heading + 270) % 360;
    const [ux, uy] = UNIT[heading];
    const ahead = Math.hypot(v.x + ux * this.blockM, v.y + uy * this.blockM);
    if (ahead > this.radiusM) {
      // Take whichever street leads closest to the center (never a U-turn unless nothing else does).
      const options = HEADINGS.filter((h) => h !== (v.heading + 180) % 360);
      options.sort((a, b) => {
        const da = Math.hypot(v.x + UNIT[a][0] * this.blockM, v.y + UNIT[a][1] * this.blockM);
        const db = Math.hypot(v.x + UNIT[b][0] * this.blockM, v.y + UNIT[b][1] * this.blockM);
        return da - db;
      });
      heading = options[0];
    }
    return heading;
  }

  /** Advances every vehicle by dt seconds. */
  step(dt) {
    for (const v of this.vehicles) this.advance(v, dt);
  }

  advance(v, dt) {
    let left = dt;
    // Sub-steps: a vehicle may reach an intersection (and turn, or stop) within one step.
    for (let guard = 0; left > 1e-9 && guard < 8; guard++) {
      if (v.wait > 0) {
        const w = Math.min(v.wait, left);
        v.wait -= w;
        left -= w;
        v.speed = 0;
        continue;
      }
      const dist = Math.hypot(v.target.x - v.x, v.target.y - v.y);
      // Cruise, or brake so as to arrive slowly at a stop (v² = 2ad), crawling the last metres.
      const wanted = v.stopAhead ? Math.max(1, Math.sqrt(2 * ACCEL * dist)) : v.cruise;
      const speed = Math.max(0, Math.min(wanted, v.cruise, v.speed + ACCEL * left), v.speed - ACCEL * left, 1);
      const avg = (v.speed + speed) / 2;
      const travel = avg * left;
      if (travel >= dist) {
        // At the intersection: stop there if planned, then choose the next street.
        left -= avg > 0 ? dist / avg : 0;
        v.x = v.target.x;
        v.y = v.target.y;
        v.speed = speed;
        if (v.stopAhead) {
          v.wait = 2 + this.random() * 8;
          v.speed = 0;
        }
        v.heading = this.chooseHeading(v);
        v.target = this.nextIntersection(v.x, v.y, v.heading);
        v.stopAhead = this.random() < 0.2;
        continue;
      }
      const [ux, uy] = UNIT[v.heading];
      v.x += ux * travel;
      v.y += uy * travel;
      v.speed = speed;
      left = 0;
    }
  }

  /** The GPS point of vehicle v at time ts (ms since the epoch): the simulator's payload. */
  point(v, ts = Date.now()) {
    const { lat, lon } = toLatLon(this.center.lat, this.center.lon, v.x, v.y);
    return {
      id: v.id,
      lat: round(lat, 6),
      lon: round(lon, 6),
      speed: round(v.speed, 2),
      heading: v.heading,
      ts,
    };
  }
}
