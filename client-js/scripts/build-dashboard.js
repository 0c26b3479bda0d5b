#!/usr/bin/env node
// Copies what the dashboard loads from packages into dashboard/vendor/ (git-ignored), so the page works
// offline with no CDN and no bundler:
//   vendor/phoenix.mjs (+ .map, LICENSE.txt)  the stock phoenix client from node_modules (MIT)
//   vendor/cinder-client/*.js                 this package's browser-safe modules (src/)
// The page maps the bare specifier "phoenix" to vendor/phoenix.mjs with an import map.
// Run after `npm ci` (npm run build-dashboard); scripts/setup.sh and the tests run it.

import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const phoenixDir = path.join(root, 'node_modules', 'phoenix');
const vendor = path.join(root, 'dashboard', 'vendor');

if (!existsSync(path.join(phoenixDir, 'priv', 'static', 'phoenix.mjs'))) {
  process.stderr.write(`build-dashboard: ${phoenixDir} is missing: run "npm ci" in ${root} first\n`);
  process.exit(1);
}
rmSync(vendor, { recursive: true, force: true });
mkdirSync(path.join(vendor, 'cinder-client'), { recursive: true });
copyFileSync(path.join(phoenixDir, 'priv', 'static', 'phoenix.mjs'), path.join(vendor, 'phoenix.mjs'));
copyFileSync(path.join(phoenixDir, 'priv', 'static', 'phoenix.mjs.map'), path.join(vendor, 'phoenix.mjs.map'));
copyFileSync(path.join(phoenixDir, 'LICENSE.md'), path.join(vendor, 'phoenix.LICENSE.txt'));
const browserSafe = ['index.js', 'socket.js', 'channel.js', 'presence.js', 'publisher.js', 'recovery.js'];
for (const f of readdirSync(path.join(root, 'src'))) {
  if (browserSafe.includes(f)) copyFileSync(path.join(root, 'src', f), path.join(vendor, 'cinder-client', f));
}
process.stdout.write(`build-dashboard: ${path.relative(process.cwd(), vendor) || vendor} ready\n`);
