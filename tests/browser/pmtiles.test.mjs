#!/usr/bin/env node
// Browser test of the map on a static boundary archive (#16; tests/browser/harness.mjs runs it: sample store, real
// server on 127.0.0.1 started with --boundaries-pmtiles lsoa=<an archive `smallarea tiles export` wrote from the
// store>, Debian's chromium): the map reads the LSOA shapes through the npm pmtiles protocol (HTTP Range requests,
// 206), never /tiles/lsoa; the archive's features carry code/name only; each area's feature-state class is the one
// /api/values gives and its fill is that class's palette colour; the rendered canvas shows the classes; axe-core
// audits the page; screenshot pmtiles-map.png.
//
// Usage:
//   node tests/browser/pmtiles.test.mjs --server build/tools/smallarea --web web/dist \
//        --sample data/sample/manifest.json --out DIR [--keep] [--timeout SECONDS] [--chromium /usr/bin/chromium]

import { DESKTOP, assert, auditAccessibility, check, getJson, idle, runBrowserTest } from './harness.mjs';

const hexToRgb = (hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));

runBrowserTest({ label: 'browser-pmtiles', org: 'browser-pmtiles', tmpPrefix: 'smallarea-pmtiles-', resultFile: 'pmtiles-result.txt', archives: ['lsoa'] },
  async ({ base, browser, shot }) => {
  const tileCatalog = await getJson(base, '/tiles/catalog');
  const lsoa = (tileCatalog.layers || []).find((l) => l.level === 'lsoa' && l.default);
  await check('/tiles/catalog names the LSOA archive', async () => {
    assert(lsoa && lsoa.pmtiles && lsoa.pmtiles.endsWith('/boundaries/lsoa.pmtiles'), `catalog: ${JSON.stringify(tileCatalog.layers)}`);
    const others = tileCatalog.layers.filter((l) => l.level !== 'lsoa' && l.pmtiles);
    assert(others.length === 0, `archives listed for ${others.map((l) => l.level)}`);
    return lsoa.pmtiles;
  });

  const context = await browser.newContext(DESKTOP);
  const page = await context.newPage();
  const errors = [];
  const requests = [];
  const failed = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('response', (r) => {
    const url = new URL(r.url());
    requests.push({ path: url.pathname, status: r.status(), range: r.request().headers().range || '' });
    if (r.status() >= 400) failed.push(`${r.status()} ${url.pathname}`);
  });
  await page.goto(`${base}/#dataset=claimant_count&map=11.2/53.455/-2.27`, { waitUntil: 'load' });
  await idle(page);
  await page.waitForFunction(() => window.__smallareaTest.state.values !== null, null, { timeout: 20000 });
  await idle(page);

  await check('the LSOA shapes come from the archive by Range requests (206), never from /tiles/lsoa', async () => {
    const source = await page.evaluate(() => {
      const s = window.__smallareaTest.map.getSource('areas');
      return { type: s.type, url: s.url, promoteId: s.promoteId };
    });
    assert(source.url === `pmtiles://${lsoa.pmtiles}`, `areas source url ${source.url}`);
    const archive = requests.filter((r) => r.path === '/boundaries/lsoa.pmtiles');
    assert(archive.length >= 2, `${archive.length} archive requests`);
    assert(archive.every((r) => r.status === 206 && /^bytes=\d+-\d+$/.test(r.range)), `archive answers ${JSON.stringify(archive.slice(0, 4))}`);
    const served = requests.filter((r) => r.path.startsWith('/tiles/lsoa/'));
    assert(served.length === 0, `${served.length} /tiles/lsoa requests: ${served.slice(0, 3).map((r) => r.path)}`);
    const values = requests.filter((r) => r.path === '/api/values');
    assert(values.length >= 1 && values.every((r) => r.status === 200), `/api/values answers ${JSON.stringify(values)}`);
    return `${archive.length} range requests, ${values.length} /api/values`;
  });

  await check('each rendered area\'s feature-state class is its /api/values class, and its fill that class\'s colour', async () => {
    const s = await page.evaluate(() => {
      const st = window.__smallareaTest.state;
      return { dataset: st.dataset, measure: st.measure, period: st.period, level: st.level, method: st.method, classes: st.classes, of: st.of, colours: st.colours };
    });
    const q = new URLSearchParams({ dataset: s.dataset, measure: s.measure, period: s.period, level: s.level, method: s.method, classes: s.classes, of: s.of });
    const values = await getJson(base, `/api/values?${q}`);
    const classOf = new Map(values.codes.map((c, i) => [c, values.class[i]]));
    const features = await page.evaluate(() => {
      const map = window.__smallareaTest.map;
      const fill = map.getLayer('areas-fill');
      const seen = new Map();
      for (const f of map.queryRenderedFeatures({ layers: ['areas-fill'] })) {
        if (seen.has(f.id)) continue;
        const state = map.getFeatureState({ source: 'areas', sourceLayer: 'lsoa', id: f.id });
        // The colour MapLibre paints: the layer's fill-color evaluated for this feature and its feature-state.
        const c = fill.paint.get('fill-color').evaluate(f, state);
        seen.set(f.id, { id: f.id, properties: f.properties, state, rgb: [c.r, c.g, c.b].map((v) => Math.round(v * 255)) });
      }
      return [...seen.values()];
    });
    assert(features.length > 50, `only ${features.length} features rendered`);
    const extra = features.filter((f) => Object.keys(f.properties).some((k) => k !== 'code' && k !== 'name'));
    assert(extra.length === 0, `archive features with figures: ${JSON.stringify(extra.slice(0, 2).map((f) => f.properties))}`);
    let classed = 0;
    for (const f of features) {
      assert(f.id === f.properties.code, `feature id ${f.id} is not its code ${f.properties.code} (promoteId)`);
      assert(classOf.has(f.id), `${f.id} not in /api/values`);
      assert(f.state.class === classOf.get(f.id), `${f.id}: feature-state class ${f.state.class}, /api/values ${classOf.get(f.id)}`);
      if (f.state.class < 0 || f.state.suppressed || f.state.missing) continue;
      const want = hexToRgb(s.colours[f.state.class]);
      assert(want.every((v, i) => Math.abs(v - f.rgb[i]) <= 1), `${f.id}: fill ${f.rgb} for class ${f.state.class}, palette ${s.colours[f.state.class]}`);
      classed += 1;
    }
    const distinct = new Set(features.map((f) => f.state.class).filter((c) => c >= 0));
    assert(classed > 50 && distinct.size >= 3, `${classed} classed features in ${distinct.size} classes`);
    return `${features.length} features, ${classed} coloured by their class, ${distinct.size} classes`;
  });

  await check('the canvas shows the class colours (WebGL drew the archive\'s shapes)', async () => {
    const { seen, colours } = await page.evaluate(() => new Promise((resolve) => {
      const map = window.__smallareaTest.map;
      map.once('render', () => {
        const gl = map.painter.context.gl;
        const pixels = new Uint8Array(gl.drawingBufferWidth * gl.drawingBufferHeight * 4);
        gl.readPixels(0, 0, gl.drawingBufferWidth, gl.drawingBufferHeight, gl.RGBA, gl.UNSIGNED_BYTE, pixels);
        const set = new Set();
        for (let i = 0; i < pixels.length; i += 4 * 97) set.add((pixels[i] << 16) | (pixels[i + 1] << 8) | pixels[i + 2]);
        resolve({ seen: [...set].map((c) => `#${c.toString(16).padStart(6, '0')}`), colours: window.__smallareaTest.state.colours });
      });
      map.triggerRepaint();
    }));
    const near = (a, b) => a.every((v, i) => Math.abs(v - b[i]) <= 3);
    const onScreen = colours.filter((c) => seen.some((x) => near(hexToRgb(x), hexToRgb(c))));
    assert(onScreen.length >= 3, `${onScreen.length} class colours on the canvas`);
    await shot(page, 'pmtiles-map.png');
    return `${onScreen.length}/${colours.length} class colours on screen`;
  });

  await check('hovering an area shows its figure from the feature-state', async () => {
    const point = await page.evaluate(() => {
      const map = window.__smallareaTest.map;
      const f = map.queryRenderedFeatures({ layers: ['areas-fill'] }).find((x) => {
        const s = map.getFeatureState({ source: 'areas', sourceLayer: 'lsoa', id: x.id });
        return typeof s.rate === 'number' && s.class >= 0;
      });
      const c = map.getCanvas().getBoundingClientRect();
      const centre = map.project(map.getCenter());
      return f ? { x: c.left + centre.x, y: c.top + centre.y } : null;
    });
    assert(point, 'no classed feature');
    await page.mouse.move(point.x, point.y);
    await page.waitForFunction(() => !document.getElementById('tooltip').hidden, null, { timeout: 5000 });
    const text = await page.locator('#tooltip').textContent();
    assert(/\d/.test(text) && !/no data/.test(text), `tooltip "${text}"`);
    await page.mouse.move(5, 5);
    return text;
  });

  await check('new classes (7, Jenks) re-class the areas from /api/values without reloading the shapes', async () => {
    const archiveBefore = requests.filter((r) => r.path === '/boundaries/lsoa.pmtiles').length;
    await page.selectOption('#classes', '7');
    await page.selectOption('#method', 'jenks');
    await idle(page);
    await page.waitForFunction(() => {
      const st = window.__smallareaTest.state;
      return st.values && st.values.breaks.length === 7 && st.breaks && st.breaks.breaks.length === 7;
    }, null, { timeout: 20000 });
    const s = await page.evaluate(() => ({ ...window.__smallareaTest.state, breaks: null, row: null, values: null }));
    const q = new URLSearchParams({ dataset: s.dataset, measure: s.measure, period: s.period, level: s.level, method: 'jenks', classes: 7, of: s.of });
    const values = await getJson(base, `/api/values?${q}`);
    const classOf = new Map(values.codes.map((c, i) => [c, values.class[i]]));
    const states = await page.evaluate(() => {
      const map = window.__smallareaTest.map;
      return map.queryRenderedFeatures({ layers: ['areas-fill'] }).map((f) => [f.id, map.getFeatureState({ source: 'areas', sourceLayer: 'lsoa', id: f.id }).class]);
    });
    const wrong = states.filter(([id, c]) => classOf.get(id) !== c);
    assert(states.length > 50 && wrong.length === 0, `${wrong.length} of ${states.length} features with another class: ${JSON.stringify(wrong.slice(0, 3))}`);
    const classes = new Set(states.map(([, c]) => c).filter((c) => c >= 0));
    assert(classes.size >= 5, `only ${classes.size} classes among rendered features`);
    const archiveAfter = requests.filter((r) => r.path === '/boundaries/lsoa.pmtiles').length;
    return `${states.length} features in ${classes.size} of 7 classes; ${archiveAfter - archiveBefore} more archive requests`;
  });

  await check('accessibility: the archive map has no serious or critical WCAG 2.2 AA violation (axe-core)', async () =>
    auditAccessibility(page, 'archive map'));

  await check('no failed request and no console error', async () => {
    assert(failed.length === 0, `failed: ${failed.slice(0, 5).join(', ')}`);
    assert(errors.length === 0, `errors: ${errors.slice(0, 3).join(' | ')}`);
    return 'none';
  });
});
