// `smallarea tiles export` read back by an independent reader, the npm `pmtiles` package (what a MapLibre map
// uses through its pmtiles:// protocol), against the real server:
//   - the bundled sample is ingested into a temporary store and exported (oa and lsoa, 2011);
//   - the archive's header and metadata are what the spec and the command promise;
//   - every tile of the archive, decompressed, draws what GET /tiles/{level}/{z}/{x}/{y}.mvt?fields=code,name
//     draws without a dataset: same layer, extent, features in the same order, same geometry and properties; only
//     the feature id differs by design (the archive's is a hash of the code, the server's a store row id);
//   - no tile carries a property but code and name, nor any dataset's name, measure or value field;
//   - a store ingested in another order (other row ids) gives a byte-identical archive (stable ids);
//   - bad input exits 1 with a message and leaves no file.
// usage: node pmtiles.test.mjs --cli BIN --sample MANIFEST --web WEB_DIR [--keep]
// Prints one line per check and `pmtiles: N passed, M failed`; exits 0 only when every check passed.

import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, openSync, readFileSync, readSync, readdirSync, rmSync, writeFileSync, closeSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';

let passed = 0;
let failed = 0;
function check(ok, what, detail = '') {
  if (ok) {
    passed += 1;
    console.log(`ok   ${what}`);
  } else {
    failed += 1;
    console.log(`FAIL ${what}${detail ? `: ${detail}` : ''}`);
  }
}
function finish(code) {
  console.log(`pmtiles: ${passed} passed, ${failed} failed`);
  process.exit(code ?? (failed === 0 && passed > 0 ? 0 : 1));
}

const args = { keep: false };
for (let i = 2; i < process.argv.length; i += 1) {
  const a = process.argv[i];
  if (a === '--keep') args.keep = true;
  else if (a.startsWith('--') && i + 1 < process.argv.length) args[a.slice(2)] = process.argv[++i];
  else { console.error(`unexpected argument ${a}`); finish(2); }
}
for (const required of ['cli', 'sample', 'web']) {
  if (!args[required]) { console.error(`missing --${required}\nusage: node pmtiles.test.mjs --cli BIN --sample MANIFEST --web WEB_DIR`); finish(2); }
}
// npm packages from web/node_modules (web/package.json devDependencies: pmtiles, @mapbox/vector-tile, pbf).
const requireWeb = createRequire(path.join(path.resolve(args.web), 'package.json'));
let pmtiles, VectorTile, Pbf;
try {
  pmtiles = await import(requireWeb.resolve('pmtiles'));
  ({ VectorTile } = await import(requireWeb.resolve('@mapbox/vector-tile')));
  Pbf = (await import(requireWeb.resolve('pbf'))).default;
} catch (e) {
  console.error(`npm packages missing (cd web && npm ci): ${e.message}`);
  finish(2);
}

const work = mkdtempSync(path.join(os.tmpdir(), 'smallarea-pmtiles-'));
const children = new Set();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
  if (!args.keep) rmSync(work, { recursive: true, force: true });
});
const guard = setTimeout(() => { console.log('FAIL time guard (180 s)'); failed += 1; finish(1); }, 180000);

function cli(...argv) {
  const r = spawnSync(args.cli, argv, { encoding: 'utf8', timeout: 120000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}
function mustCli(...argv) {
  const r = cli(...argv);
  if (r.code !== 0) { console.log(`FAIL smallarea ${argv.join(' ')} exited ${r.code}:\n${r.out}`); failed += 1; finish(1); }
  return r.out;
}

// A pmtiles Source on a local file: the byte ranges a browser would ask a static server or bucket for.
class LocalFileSource {
  constructor(file) { this.file = file; }
  getKey() { return this.file; }
  async getBytes(offset, length) {
    const fd = openSync(this.file, 'r');
    try {
      const buffer = Buffer.alloc(length);
      const n = readSync(fd, buffer, 0, length, offset);
      return { data: buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + n) };
    } finally {
      closeSync(fd);
    }
  }
}

// engine::stable_feature_id: FNV-1a 64 of the code's bytes, low 53 bits.
function stableId(code) {
  let h = 0xcbf29ce484222325n;
  for (const b of Buffer.from(code, 'utf8')) {
    h ^= BigInt(b);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return Number(h & ((1n << 53n) - 1n));
}

function decode(bytes) {
  const tile = new VectorTile(new Pbf(new Uint8Array(bytes)));
  return Object.entries(tile.layers).map(([name, layer]) => {
    const features = [];
    for (let i = 0; i < layer.length; i += 1) {
      const f = layer.feature(i);
      features.push({ id: f.id, type: f.type, properties: f.properties, geometry: f.loadGeometry().map((ring) => ring.map((p) => [p.x, p.y])) });
    }
    return { name, extent: layer.extent, version: layer.version, features };
  });
}

function startServer(store) {
  return new Promise((resolve, reject) => {
    const child = spawn(args.cli, ['serve', '--db', store, '--host', '127.0.0.1', '--port', '0', '--rate-limit', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let out = '';
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), 20000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (127\.0\.0\.1):(\d+)/.exec(out);
      if (m) { clearTimeout(timer); resolve({ child, base: `http://${m[1]}:${m[2]}` }); }
    });
    child.stderr.on('data', (d) => { out += d; });
    child.on('exit', (code) => { children.delete(child); clearTimeout(timer); reject(new Error(`server exited ${code}:\n${out}`)); });
  });
}

const sha = (file) => createHash('sha256').update(readFileSync(file)).digest('hex');
const leftovers = (dir) => readdirSync(dir).filter((f) => f.includes('.tmp-'));

// ---------------------------------------------------------------------------------------------------------------
// The store, the exports

const store = path.join(work, 'store.db');
mustCli('ingest', path.resolve(args.sample), '--db', store);
const oaFile = path.join(work, 'oa.pmtiles');
const out = mustCli('tiles', 'export', '--db', store, '--level', 'oa', '--vintage', '2011', '--out', oaFile);
check(/wrote .*oa\.pmtiles: oa 2011, \d+ features/.test(out), 'tiles export reports what it wrote', out.trim().split('\n').pop());
check(leftovers(work).length === 0, 'no temporary file is left after an export', leftovers(work).join(', '));
const lsoaFile = path.join(work, 'lsoa.pmtiles');
mustCli('tiles', 'export', '--db', store, '--level', 'lsoa', '--out', lsoaFile, '--minzoom', '8', '--maxzoom', '12');

// The sample's datasets: their ids, measures and every field name a dataset tile could carry.
const manifest = JSON.parse(readFileSync(args.sample, 'utf8'));
const datasetWords = new Set(['households', 'value', 'percent', 'rate', 'suppressed', 'missing', 'change', 'change_percent', 'change_rate', 'change_uncertainty']);
for (const d of manifest.datasets) {
  datasetWords.add(d.id);
  for (const m of d.measures) datasetWords.add(m.id);
}

// ---------------------------------------------------------------------------------------------------------------
// The archive through the npm reader

const archive = new pmtiles.PMTiles(new LocalFileSource(oaFile));
const header = await archive.getHeader();
check(header.specVersion === 3, 'header: spec version 3', String(header.specVersion));
check(header.tileType === pmtiles.TileType.Mvt, 'header: tile type MVT', String(header.tileType));
check(header.tileCompression === pmtiles.Compression.Gzip && header.internalCompression === pmtiles.Compression.Gzip, 'header: gzip tiles and directories');
check(header.minZoom === 0 && header.maxZoom === 14, 'header: zooms 0 to 14 (the defaults)', `${header.minZoom}..${header.maxZoom}`);
check(header.clustered === true, 'header: clustered');
// Manchester and Trafford: about 2.5 W to 2.1 W, 53.3 N to 53.6 N.
check(header.minLon > -2.8 && header.maxLon < -1.9 && header.minLat > 53.2 && header.maxLat < 53.7 && header.minLon < header.maxLon && header.minLat < header.maxLat,
  'header: bounds are the sample area', JSON.stringify([header.minLon, header.minLat, header.maxLon, header.maxLat]));
check(header.centerLon > header.minLon && header.centerLon < header.maxLon && header.centerLat > header.minLat && header.centerLat < header.maxLat && header.centerZoom === 11,
  'header: center inside the bounds at zoom 11');
check(header.numAddressedTiles > 100 && header.numTileContents <= header.numTileEntries, 'header: tile counts', `${header.numAddressedTiles} addressed, ${header.numTileEntries} entries, ${header.numTileContents} contents`);

const meta = await archive.getMetadata();
const layer = meta.vector_layers?.[0];
check(meta.vector_layers?.length === 1 && layer.id === 'oa', 'metadata: one vector layer named after the level', JSON.stringify(meta.vector_layers));
check(layer && JSON.stringify(Object.keys(layer.fields).sort()) === '["code","name"]', 'metadata: the layer declares only code and name', JSON.stringify(layer?.fields));
check(meta.minzoom === 0 && meta.maxzoom === 14 && meta.bounds?.length === 4 && meta.center?.length === 3, 'metadata: TileJSON minzoom, maxzoom, bounds, center');
check(meta.smallarea?.level === 'oa' && meta.smallarea?.vintage === 2011 && meta.smallarea?.tile_options?.tolerance === 4.5, 'metadata: level, vintage and the served tile options');
const metaText = JSON.stringify(meta);
check(![...datasetWords].some((w) => w !== 'households' && metaText.includes(`"${w}"`)), 'metadata: names no dataset or measure');

// Every tile id of the archive, from its directories (the npm reader's own directory decoder).
const entries = [];
{
  const root = await archive.cache.getDirectory(archive.source, header.rootDirectoryOffset, header.rootDirectoryLength, header);
  for (const e of root) {
    if (e.runLength > 0) entries.push(e);
    else entries.push(...(await archive.cache.getDirectory(archive.source, header.leafDirectoryOffset + e.offset, e.length, header)));
  }
}
const tiles = [];
for (const e of entries) for (let k = 0; k < e.runLength; k += 1) tiles.push(pmtiles.tileIdToZxy(e.tileId + k));
check(tiles.length === header.numAddressedTiles, 'directories address as many tiles as the header says', `${tiles.length} vs ${header.numAddressedTiles}`);

// ---------------------------------------------------------------------------------------------------------------
// Every tile against the server

const server = await startServer(store);
let compared = 0;
let mismatches = [];
let badProperties = [];
let badIds = [];
let leakedWords = [];
for (const [z, x, y] of tiles) {
  const mine = await archive.getZxy(z, x, y);
  const raw = Buffer.from(mine.data);
  const res = await fetch(`${server.base}/tiles/oa/${z}/${x}/${y}.mvt?fields=code,name`, { headers: { 'Accept-Encoding': 'identity' } });
  const theirs = res.status === 200 ? Buffer.from(await res.arrayBuffer()) : Buffer.alloc(0);
  const a = decode(raw);
  const b = decode(theirs);
  for (const l of a) {
    for (const f of l.features) {
      const keys = Object.keys(f.properties);
      if (keys.some((k) => k !== 'code' && k !== 'name')) badProperties.push(`${z}/${x}/${y}: ${keys}`);
      if (f.id !== stableId(f.properties.code)) badIds.push(`${z}/${x}/${y} ${f.properties.code}: ${f.id}`);
    }
  }
  const text = raw.toString('latin1');
  for (const w of datasetWords) if (text.includes(w)) leakedWords.push(`${z}/${x}/${y}: ${w}`);
  // Equal but for the ids (by design: see the header of this file).
  const strip = (layers) => JSON.stringify(layers.map((l) => ({ ...l, features: l.features.map(({ id, ...rest }) => rest) })));
  if (strip(a) !== strip(b)) mismatches.push(`${z}/${x}/${y} (server ${res.status}, ${b[0]?.features.length ?? 0} vs ${a[0]?.features.length ?? 0} features)`);
  compared += 1;
}
check(compared === tiles.length && compared > 100, `every archive tile decompressed and decoded (${compared})`);
check(mismatches.length === 0, 'every archive tile draws what /tiles draws without a dataset (same features, order, geometry, properties)', mismatches.slice(0, 5).join('; '));
check(badProperties.length === 0, 'no tile carries a property but code and name', badProperties.slice(0, 5).join('; '));
check(leakedWords.length === 0, "no tile's bytes contain a dataset id, measure id or value field name", leakedWords.slice(0, 5).join('; '));
check(badIds.length === 0, 'every feature id is the stable hash of its code', badIds.slice(0, 5).join('; '));
// A known tile by hand: a zoom-12 tile over Manchester city centre (-2.24, 53.48) holds OAs with their codes.
{
  const known = await archive.getZxy(12, 2022, 1325);
  const f = known ? decode(Buffer.from(known.data))[0]?.features ?? [] : [];
  check(f.length > 10 && f.every((g) => /^E00\d{6}$/.test(g.properties.code) && g.properties.name === undefined), 'tile 12/2022/1325: OAs with codes and no names (OAs have none)', `${f.length} features`);
}
// Tiles the archive skips are the ones the server has nothing for.
{
  const z3 = await fetch(`${server.base}/tiles/oa/3/3/2.mvt?fields=code,name`);
  check(z3.status === 204 && (await archive.getZxy(3, 3, 2)) === undefined, 'a tile the server answers 204 for is absent from the archive');
}
await new Promise((resolve) => { server.child.once('exit', resolve); server.child.kill('SIGTERM'); });

const lsoa = new pmtiles.PMTiles(new LocalFileSource(lsoaFile));
const lh = await lsoa.getHeader();
const lm = await lsoa.getMetadata();
check(lh.minZoom === 8 && lh.maxZoom === 12 && lm.vector_layers[0].id === 'lsoa', 'lsoa export: --minzoom/--maxzoom and its layer');
{
  const t = await lsoa.getZxy(12, 2022, 1325);
  const f = t ? decode(Buffer.from(t.data))[0].features : [];
  check(f.length > 0 && f.every((g) => /^E01/.test(g.properties.code) && typeof g.properties.name === 'string'), 'lsoa tiles carry code and name', `${f.length} features`);
  check((await lsoa.getZxy(7, 63, 41)) === undefined, 'no tile below --minzoom');
}

// ---------------------------------------------------------------------------------------------------------------
// Stable across exports and stores

{
  const again = path.join(work, 'again.pmtiles');
  mustCli('tiles', 'export', '--db', store, '--level', 'oa', '--out', again, '--threads', '1');
  check(sha(again) === sha(oaFile), 'the same export twice (and on 1 thread vs all) is byte-identical');
  // The same boundaries ingested in another order: other row ids for every area, the same archive.
  const reordered = JSON.parse(readFileSync(args.sample, 'utf8'));
  const base = path.dirname(path.resolve(args.sample));
  const absolute = (p) => path.resolve(base, p);
  for (const key of ['boundaries', 'lookups', 'denominators', 'postcodes', 'crosswalks']) {
    for (const item of reordered[key] ?? []) if (item.path) item.path = absolute(item.path);
  }
  for (const d of reordered.datasets ?? []) for (const f of d.files ?? []) if (f.path) f.path = absolute(f.path);
  reordered.boundaries.reverse();
  const manifest2 = path.join(work, 'reordered.json');
  writeFileSync(manifest2, JSON.stringify(reordered));
  const store2 = path.join(work, 'store2.db');
  mustCli('ingest', manifest2, '--db', store2);
  const other = path.join(work, 'other.pmtiles');
  mustCli('tiles', 'export', '--db', store2, '--level', 'oa', '--out', other);
  check(sha(other) === sha(oaFile), 'a store ingested in another order (other row ids) gives a byte-identical archive');
}

// ---------------------------------------------------------------------------------------------------------------
// Bad input: exit 1, a message, no file

const badOut = path.join(work, 'bad.pmtiles');
for (const [what, argv, pattern] of [
  ['unknown level', ['--level', 'county'], /UnknownLevel|no level "county"/],
  ['a level/vintage without boundaries', ['--level', 'oa', '--vintage', '2021'], /no oa 2021 boundaries/],
  ['a vintage that is not a year', ['--level', 'oa', '--vintage', 'new'], /vintage must be a year/],
  ['--maxzoom above 16', ['--level', 'oa', '--maxzoom', '17'], /--maxzoom must be a whole number from 0 to 16/],
  ['--minzoom not a number', ['--level', 'oa', '--minzoom', 'x'], /--minzoom must be a whole number/],
  ['--minzoom above --maxzoom', ['--level', 'oa', '--minzoom', '9', '--maxzoom', '5'], /--minzoom 9 is above --maxzoom 5/],
]) {
  const r = cli('tiles', 'export', '--db', store, '--out', badOut, ...argv);
  check(r.code === 1 && pattern.test(r.out) && !existsSync(badOut), `${what}: exit 1 with a message, no file`, `exit ${r.code}: ${r.out.trim()}`);
}
{
  const r = cli('tiles', 'export', '--db', store, '--level', 'oa', '--out', path.join(work, 'no-such-folder', 'x.pmtiles'));
  check(r.code === 1 && /cannot write .*no-such-folder/.test(r.out), 'an unwritable --out: exit 1 naming it', `exit ${r.code}: ${r.out.trim()}`);
  const d = cli('tiles', 'export', '--db', store, '--level', 'oa', '--out', work);
  check(d.code === 1 && /it is a folder/.test(d.out), '--out naming a folder: exit 1', `exit ${d.code}: ${d.out.trim()}`);
  const s = cli('tiles', 'export', '--db', path.join(work, 'missing.db'), '--level', 'oa', '--out', badOut);
  check(s.code === 1 && !existsSync(badOut), 'a missing store: exit 1, no file', `exit ${s.code}: ${s.out.trim()}`);
  check(leftovers(work).length === 0, 'failed exports leave no temporary file', leftovers(work).join(', '));
}

clearTimeout(guard);
finish();
