// The one harness of the browser tests (map.test.mjs, bespoke.test.mjs, outreach.test.mjs): it ingests the bundled sample into a
// temporary store, mints a partner key, starts the real server on 127.0.0.1 (ephemeral port), launches Debian's
// chromium through playwright-core, runs the test's checks and always stops the server and the browser, also on
// failure or when the overall time guard fires.
//
// Every test takes the same arguments:
//   --server BIN --web DIR --sample MANIFEST --out DIR [--keep] [--timeout SECONDS] [--chromium /usr/bin/chromium]
// playwright-core and @axe-core/playwright are resolved from web/node_modules (next to --web, or the repository's
// web/ folder). Each check prints one line (`ok`, `FAIL` or `skip`) and the run ends with `LABEL: N passed, M failed`;
// the process exits 0 only if every check passed.
//
// The page under test exposes one object for the tests, window.__smallareaTest (web/src/main.js): {map, state,
// bespoke, zones, series, sheet, viewTable, idle()}. Code inside page.evaluate must name it itself (the function is sent to the browser).
//
// One test runs per process, so the tally below is module state.

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

export const DESKTOP = { viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 };

let label = 'browser';
let passed = 0;
let failed = 0;
const skipped = [];
let partnerKey = ''; // internal MI needs a partner key (minted with `smallarea keys` in runBrowserTest)
let AxeBuilder = null;

// ---------------------------------------------------------------------------------------------------------------
// Arguments and npm packages

function fail(message) {
  console.error(`browser test: ${message}`);
  console.log(`${label}: 0 passed, 1 failed`);
  process.exit(2);
}

function parseArgs(argv) {
  const args = { timeout: 240, chromium: '/usr/bin/chromium', keep: false };
  for (let i = 0; i < argv.length; i += 1) {
    const a = argv[i];
    if (a === '--keep') args.keep = true;
    else if (a.startsWith('--') && i + 1 < argv.length) args[a.slice(2)] = argv[++i];
    else fail(`unexpected argument ${a}`);
  }
  const script = path.basename(process.argv[1] || 'test.mjs');
  for (const required of ['server', 'web', 'sample', 'out']) {
    if (!args[required]) fail(`missing --${required}\nusage: node ${script} --server BIN --web DIR --sample MANIFEST --out DIR`);
  }
  args.server = path.resolve(args.server);
  args.web = path.resolve(args.web);
  args.sample = path.resolve(args.sample);
  args.out = path.resolve(args.out);
  args.timeout = Number(args.timeout);
  if (!existsSync(args.server)) fail(`--server ${args.server} does not exist (build the smallarea target first)`);
  if (!existsSync(path.join(args.web, 'index.html'))) fail(`--web ${args.web} has no index.html (run npm ci && npm run build in web/)`);
  if (!existsSync(path.join(args.web, 'vendor', 'maplibre-gl.js'))) fail(`--web ${args.web} has no vendor/maplibre-gl.js (run npm run build in web/)`);
  if (!existsSync(args.sample)) fail(`--sample ${args.sample} does not exist`);
  if (!existsSync(args.chromium)) fail(`chromium not found at ${args.chromium} (apt-get install chromium)`);
  return args;
}

// An npm package of web/ (next to --web, or the repository's web/ folder), or null when it is not installed.
function requireFromWeb(web, name) {
  for (const candidate of [path.join(web, '..', 'package.json'), path.join(here, '..', '..', 'web', 'package.json'), path.join(web, 'package.json')]) {
    try {
      return createRequire(candidate)(name);
    } catch {
      // try the next one
    }
  }
  return null;
}

// ---------------------------------------------------------------------------------------------------------------
// Processes

const children = new Set();

function run(cmd, argv, { timeoutMs = 60000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      if (code === 0) resolve(out);
      else reject(new Error(`${path.basename(cmd)} ${argv[0]} exited with ${code ?? signal}:\n${out}`));
    });
  });
}

function startServer(args, store, extra = []) {
  return new Promise((resolve, reject) => {
    const child = spawn(args.server, ['serve', '--db', store, '--host', '127.0.0.1', '--port', '0', '--web', args.web, ...extra], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    let out = '';
    let log = '';
    const timer = setTimeout(() => reject(new Error(`server did not print "listening on" within 20 s:\n${out}${log}`)), 20000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (127\.0\.0\.1):(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, base: `http://${m[1]}:${m[2]}`, log: () => log });
      }
    });
    child.stderr.on('data', (d) => { log += d; });
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('exit', (code, signal) => {
      children.delete(child);
      clearTimeout(timer);
      reject(new Error(`server exited early with ${code ?? signal}:\n${out}${log}`));
    });
  });
}

function stopChild(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => { child.kill('SIGKILL'); resolve(); }, 3000);
    child.once('exit', () => { clearTimeout(timer); resolve(); });
    child.kill('SIGTERM');
  });
}

process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

// ---------------------------------------------------------------------------------------------------------------
// Checks

/// Runs one named check: `ok` with fn's return value as detail, or `FAIL` with the error's message.
export async function check(name, fn) {
  try {
    const detail = await fn();
    passed += 1;
    console.log(`ok   - ${name}${detail ? ` (${detail})` : ''}`);
    return true;
  } catch (error) {
    failed += 1;
    console.log(`FAIL - ${name}: ${error.message}`);
    return false;
  }
}

export function assert(condition, message) {
  if (!condition) throw new Error(message);
}

/// A check that needs something the running server does not have yet (named by its capability check) is reported
/// as skipped, never passed; the summary line says how many were skipped and why.
export function skip(name, capability) {
  skipped.push(capability);
  console.log(`skip - ${name} (capability ${capability} is false: the server lacks it)`);
}

/// GET a JSON answer of the server, with the partner key when `key`; fails the check on a non-2xx status.
export async function getJson(base, pathAndQuery, { key = false } = {}) {
  const response = await fetch(`${base}${pathAndQuery}`, { headers: key && partnerKey ? { Authorization: `Bearer ${partnerKey}` } : {} });
  assert(response.ok, `GET ${pathAndQuery} -> ${response.status}`);
  return response.json();
}

/// A figure as the page prints it ("1,230", "12%", "5 ± 2.5") as a number.
export const number = (text) => Number(String(text).replace(/[,%\s]/g, '').replace(/±.*$/, ''));

// ---------------------------------------------------------------------------------------------------------------
// Page helpers

/// Waits until the page is quiet: no API request in flight, classes applied, tools started, every tile rendered.
export async function idle(page) {
  await page.evaluate(() => window.__smallareaTest.idle(30000));
}

/// The page never says "public domain": published data carries the dataset's own licence (DESIGN rule 4).
export async function assertNoPublicDomain(page, where) {
  const text = await page.evaluate(() => `${document.body.innerText}\n${document.title}`);
  const hit = /public domain/i.exec(text);
  assert(!hit, `${where}: the page says "${hit ? text.slice(Math.max(0, hit.index - 40), hit.index + 60) : ''}"`);
}

/// UK public-sector bodies must meet WCAG 2.2 AA: axe-core (@axe-core/playwright, WCAG 2.2 A/AA rules) on the live
/// page; throws on any serious or critical violation. The WebGL canvas is left out (its text alternative is the
/// table, the area panel and the target list, which are audited).
export async function auditAccessibility(page, where) {
  const results = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'])
    .exclude('.maplibregl-canvas')
    .analyze();
  const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  if (bad.length > 0) {
    throw new Error(`${where}: ${bad.map((v) => `${v.id} [${v.impact}] x${v.nodes.length}: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`).join('; ')}`);
  }
  return `${results.passes.length} rules pass, ${results.violations.length} minor/moderate findings`;
}

// ---------------------------------------------------------------------------------------------------------------
// The run

/// Runs a browser test: `body({ args, base, browser, partnerKey, shot })` holds its checks. `base` is the server's
/// URL, `browser` the launched chromium, `partnerKey` a key of an organisation the sample's internal dataset is
/// shared with, and `shot(target, file, options)` saves a page's or a locator's screenshot under --out.
/// `label` starts the summary line; `resultFile`, if given, gets the summary in --out too. `archives` lists levels
/// whose boundaries the server serves from a PMTiles archive (`smallarea tiles export` of the test store, then
/// `serve --boundaries-pmtiles`).
export async function runBrowserTest({ label: name, org, tmpPrefix, resultFile = null, archives = [] }, body) {
  label = name;
  const args = parseArgs(process.argv.slice(2));
  const playwright = requireFromWeb(args.web, 'playwright-core');
  if (!playwright) fail('playwright-core is not installed: run `npm ci` in web/');
  const axe = requireFromWeb(args.web, '@axe-core/playwright');
  AxeBuilder = axe && (axe.AxeBuilder || axe.default);
  if (!AxeBuilder) fail('@axe-core/playwright is not installed: run `npm ci` in web/');
  mkdirSync(args.out, { recursive: true });
  const tmp = mkdtempSync(path.join(os.tmpdir(), tmpPrefix));
  const store = path.join(tmp, 'store.sqlite');
  let server = null;
  let browser = null;

  const guard = setTimeout(async () => {
    console.log(`FAIL - time guard: the test did not finish within ${args.timeout} s`);
    failed += 1;
    try { if (browser) await Promise.race([browser.close(), new Promise((r) => setTimeout(r, 3000))]); } catch { /* closing anyway */ }
    for (const child of children) child.kill('SIGKILL');
    console.log(`${label}: ${passed} passed, ${failed} failed`);
    process.exit(3);
  }, args.timeout * 1000);

  try {
    await run(args.server, ['ingest', args.sample, '--db', store], { timeoutMs: 120000 });
    // Internal MI is served only with a key of an organisation it is shared with.
    await run(args.server, ['keys', 'org-add', '--db', store, '--name', org, '--agreement-signed', '2024-01-01',
      '--datasets', 'claimant_count,synthetic_work_programme', '--representative', 'Browser Test',
      '--representative-contact', 'browser@example.org']);
    partnerKey = (/sak_[0-9a-f]{48}/.exec(await run(args.server, ['keys', 'issue', '--db', store, '--org', org])) || [''])[0];
    assert(partnerKey, '`smallarea keys issue` printed no key');
    const archiveSpec = [];
    for (const level of archives) {
      const file = path.join(tmp, `${level}.pmtiles`);
      await run(args.server, ['tiles', 'export', '--db', store, '--level', level, '--out', file, '--maxzoom', '13'], { timeoutMs: 120000 });
      archiveSpec.push(`${level}=${file}`);
    }
    server = await startServer(args, store, archiveSpec.length ? ['--boundaries-pmtiles', archiveSpec.join(',')] : []);
    const base = server.base;
    console.log(`# server at ${base}, store ${store}`);
    browser = await playwright.chromium.launch({
      executablePath: args.chromium,
      args: [
        '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
        '--no-first-run', '--disable-sync', '--disable-quic', '--use-angle=swiftshader', '--enable-unsafe-swiftshader',
      ],
    });
    const shot = (target, file, options = {}) => target.screenshot({ path: path.join(args.out, file), ...options });
    await body({ args, base, browser, partnerKey, shot });
  } catch (error) {
    failed += 1;
    console.log(`FAIL - setup: ${error.message}`);
    if (server) console.log(`# server log:\n${server.log()}`);
  } finally {
    clearTimeout(guard);
    if (browser) await Promise.race([browser.close().catch(() => {}), new Promise((r) => setTimeout(r, 5000))]);
    if (server) await stopChild(server.child);
    if (!args.keep) rmSync(tmp, { recursive: true, force: true });
  }
  const skips = skipped.length ? `, ${skipped.length} skipped (${[...new Set(skipped)].join(', ')})` : '';
  if (resultFile) writeFileSync(path.join(args.out, resultFile), `${passed} passed, ${failed} failed${skips}\n`);
  console.log(`# screenshots in ${args.out}`);
  console.log(`${label}: ${passed} passed, ${failed} failed${skips}`);
  process.exit(failed === 0 && passed > 0 ? 0 : 1);
}
