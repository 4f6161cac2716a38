// Build web/dist: the plain ES-module sources from src/ plus MapLibre GL JS, uPlot (the area panel's series chart) and
// the pmtiles protocol copied from node_modules into vendor/.
// No bundler and no CDN: the server serves dist/ as static files and the map works offline.
// Usage: node build.mjs [--out DIR]   (default: dist next to this file)
import { cp, mkdir, rm, readdir, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const outIndex = process.argv.indexOf('--out');
const out = path.resolve(outIndex > 0 ? process.argv[outIndex + 1] : path.join(here, 'dist'));
const require = createRequire(path.join(here, 'package.json'));

async function main() {
  let maplibreDir;
  try {
    maplibreDir = path.join(path.dirname(require.resolve('maplibre-gl/package.json')), 'dist');
  } catch {
    throw new Error('maplibre-gl is not installed: run `npm ci` (or `npm install`) in web/ first');
  }
  await rm(out, { recursive: true, force: true });
  await mkdir(path.join(out, 'vendor'), { recursive: true });
  await cp(path.join(here, 'src'), out, { recursive: true });
  const vendored = [
    ['maplibre-gl.js', 'maplibre-gl.js'],
    ['maplibre-gl.css', 'maplibre-gl.css'],
    ['LICENSE.txt', 'maplibre-gl.LICENSE.txt'],
  ];
  for (const [from, to] of vendored) await cp(path.join(maplibreDir, from), path.join(out, 'vendor', to));
  // uPlot ships an ES module build, imported by src/series.js as ./vendor/uPlot.esm.js.
  let uplotDir;
  try {
    uplotDir = path.dirname(require.resolve('uplot/package.json'));
  } catch {
    throw new Error('uplot is not installed: run `npm ci` (or `npm install`) in web/ first');
  }
  for (const [from, to] of [['dist/uPlot.esm.js', 'uPlot.esm.js'], ['dist/uPlot.min.css', 'uPlot.min.css'], ['LICENSE', 'uPlot.LICENSE.txt']]) {
    await cp(path.join(uplotDir, from), path.join(out, 'vendor', to));
  }
  // The pmtiles protocol (boundaries from a PMTiles archive, map.js): its self-contained IIFE build (fflate inside)
  // defines window.pmtiles, loaded like MapLibre with a classic <script>, so no bundler is needed (BSD-3-Clause;
  // its package.json says so; the package ships no licence file to copy).
  let pmtilesDir;
  try {
    pmtilesDir = path.dirname(require.resolve('pmtiles/package.json'));
  } catch {
    throw new Error('pmtiles is not installed: run `npm ci` (or `npm install`) in web/ first');
  }
  for (const [from, to] of [['dist/pmtiles.js', 'pmtiles.js']]) {
    await cp(path.join(pmtilesDir, from), path.join(out, 'vendor', to));
  }
  const files = [];
  const walk = async (dir) => {
    for (const name of await readdir(dir)) {
      const full = path.join(dir, name);
      if ((await stat(full)).isDirectory()) await walk(full);
      else files.push([path.relative(out, full), (await stat(full)).size]);
    }
  };
  await walk(out);
  const version = require('maplibre-gl/package.json').version;
  console.log(`web build: ${files.length} files in ${out} (maplibre-gl ${version}, uplot ${require('uplot/package.json').version}, pmtiles ${require('pmtiles/package.json').version})`);
  for (const [name, size] of files.sort()) console.log(`  ${name.padEnd(32)} ${String(size).padStart(9)} bytes`);
}

main().catch((error) => {
  console.error(`web build failed: ${error.message}`);
  process.exit(1);
});
