#!/usr/bin/env node
// Browser test of the smallarea web map (tests/browser/harness.mjs runs it: sample store, real server on 127.0.0.1,
// Debian's chromium through playwright-core): the choropleth, legend, area panel, URL state, coverage, partial and
// rounding notes, the internal dataset with a partner key, a phone layout, and axe-core audits of each view.
//
// Usage:
//   node tests/browser/map.test.mjs --server build/tools/smallarea --web web/dist \
//        --sample data/sample/manifest.json --out DIR [--keep] [--timeout SECONDS] [--chromium /usr/bin/chromium]
//
// Prints one line per check and finally `browser: N passed, M failed` (also written to DIR/browser-result.txt);
// exits 0 only if every check passed.

import {
  DESKTOP, assert, assertNoPublicDomain, auditAccessibility, check, getJson, idle, number, runBrowserTest, skip,
} from './harness.mjs';

// ---------------------------------------------------------------------------------------------------------------
// Page helpers

// A point inside a rendered area with a numeric value of `prop`, found by probing a grid over the map canvas.
async function findArea(page, prop) {
  return page.evaluate((p) => {
    const map = window.__smallareaTest.map;
    const canvas = map.getCanvas();
    const w = canvas.clientWidth;
    const h = canvas.clientHeight;
    const rect = canvas.getBoundingClientRect();
    for (let fy = 0.5; fy < 0.9; fy += 0.04) {
      for (let fx = 0.3; fx < 0.7; fx += 0.04) {
        const x = Math.round(w * fx);
        const y = Math.round(h * fy);
        const [f] = map.queryRenderedFeatures([x, y], { layers: ['areas-fill'] });
        if (f && typeof f.properties[p] === 'number' && !f.properties.suppressed) {
          return { x, y, pageX: rect.left + x, pageY: rect.top + y, id: f.id, code: f.properties.code, props: f.properties };
        }
      }
    }
    return null;
  }, prop);
}

// Distinct colours in the rendered WebGL canvas, read back right after a frame is drawn (proves WebGL rendered).
async function renderedColours(page) {
  return page.evaluate(
    () =>
      new Promise((resolve) => {
        const map = window.__smallareaTest.map;
        map.once('render', () => {
          const gl = map.painter.context.gl;
          const w = gl.drawingBufferWidth;
          const h = gl.drawingBufferHeight;
          const pixels = new Uint8Array(w * h * 4);
          gl.readPixels(0, 0, w, h, gl.RGBA, gl.UNSIGNED_BYTE, pixels);
          const seen = new Set();
          for (let i = 0; i < pixels.length; i += 4 * 97) seen.add((pixels[i] << 16) | (pixels[i + 1] << 8) | pixels[i + 2]);
          resolve([...seen].map((c) => `#${c.toString(16).padStart(6, '0')}`));
        });
        map.triggerRepaint();
      }),
  );
}

const hexToRgb = (hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));

// ---------------------------------------------------------------------------------------------------------------
// Coverage, partial aggregates and rounding that dominates a figure (the API fields of the coverage contract:
// datasets[].coverage + latest_complete_period, table rows' complete/cells_with_value/households_complete and
// rounding_dominates). Each group runs only when its capability check finds the field in the server's answer.

const monthName = (period) => {
  const [y, m] = period.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, 1)).toLocaleDateString('en-GB', { month: 'long', year: 'numeric', timeZone: 'UTC' });
};
const sharePercent = (share) => (share * 100 > 99 && share < 1 ? `${Math.floor(share * 100)}%` : `${Math.round(share * 100)}%`);

async function openView(page, base, hash) {
  await page.goto('about:blank');
  await page.goto(`${base}/#${hash}`, { waitUntil: 'load' });
  await idle(page);
}

async function coverageChecks({ base, browser, published, shot }) {
  const context = await browser.newContext(DESKTOP);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) errors.push(m.text()); });
  const latest = published.periods[published.periods.length - 1];
  const view = `dataset=${published.id}&map=11.2/53.455/-2.27`;

  const hasDatasetCoverage = Array.isArray(published.coverage) && 'latest_complete_period' in published;
  const periodName = 'the map opens on the latest period; its coverage (under 95% in October 2017) is said next to the picker with a one-click switch';
  if (!hasDatasetCoverage) {
    skip(periodName, 'hasDatasetCoverage');
    await check('without coverage from the server, the map still opens on the latest period and says nothing it does not know', async () => {
      await openView(page, base, view);
      const period = await page.evaluate(() => window.__smallareaTest.state.period);
      assert(period === latest, `period ${period}, latest ${latest}`);
      assert(await page.locator('#period-coverage').isHidden(), 'a coverage note is shown without coverage data');
      return period;
    });
  } else {
    await check(periodName, async () => {
      const cov = published.coverage.find((c) => c.period === latest);
      assert(cov, `/api/datasets has no coverage for ${latest}`);
      assert(latest !== '2017-10' || cov.share < 0.95, `the sample's October 2017 has share ${cov.share}, expected under 0.95`);
      await openView(page, base, view);
      const period = await page.evaluate(() => window.__smallareaTest.state.period);
      assert(period === latest, `period ${period}, latest ${latest}`);
      if (cov.share >= 0.95) {
        assert(await page.locator('#period-coverage-switch').isHidden(), 'a switch is offered for a complete period');
        return `${latest} share ${cov.share}: no switch`;
      }
      const note = page.locator('#period-coverage');
      assert(await note.isVisible(), 'no coverage note next to the period picker');
      const text = (await note.textContent()).replace(/\s+/g, ' ');
      const wanted = `${monthName(latest)}: ${sharePercent(cov.share)} of LSOAs have data`;
      assert(text.includes(wanted), `note "${text}" lacks "${wanted}"`);
      const legend = await page.locator('#legend-coverage').textContent();
      assert(legend.includes(`${cov.areas_with_value} of ${cov.areas} LSOAs have data`), `legend coverage "${legend}"`);
      const option = await page.locator(`#period option[value="${latest}"]`).textContent();
      assert(option.includes(sharePercent(cov.share)), `period option "${option}" does not warn`);
      await shot(page, 'map-coverage-1280x800.png');
      const target = published.latest_complete_period;
      if (!target) {
        assert(await page.locator('#period-coverage-switch').isHidden(), 'a switch is offered with no complete period');
        return `${text} (no complete period)`;
      }
      const button = page.locator('#period-coverage-switch');
      assert(await button.isVisible(), 'no switch to the latest complete period');
      assert((await button.textContent()).includes(monthName(target)), `switch says "${await button.textContent()}"`);
      // Keyboard: focus the switch and press Enter.
      await button.focus();
      await page.keyboard.press('Enter');
      await idle(page);
      const after = await page.evaluate(() => ({ period: window.__smallareaTest.state.period, hash: window.location.hash, focus: document.activeElement && document.activeElement.id }));
      assert(after.period === target, `after the switch the period is ${after.period}, expected ${target}`);
      assert(after.hash.includes(`period=${target}`), `URL ${after.hash} lacks period=${target}`);
      assert((await page.locator('#period').inputValue()) === target, 'period picker not updated');
      assert(await page.locator('#period-coverage-switch').isHidden(), 'switch still offered on the complete period');
      assert(after.focus === 'period', `focus went to ${after.focus}, expected the period picker`);
      return `"${text.trim()}" -> ${target}`;
    });
  }

  const lad = await getJson(base, `/api/table?dataset=${published.id}&period=${latest}&level=lad`, { key: true });
  const hasRowCoverage = lad.rows.some((r) => typeof r.complete === 'boolean');
  const partialName = 'an incomplete aggregate says "partial: N of M LSOAs" next to its value, and the legend counts partial areas';
  if (!hasRowCoverage) {
    skip(partialName, 'hasRowCoverage');
  } else {
    await check(partialName, async () => {
      const row = lad.rows.find((r) => r.complete === false);
      assert(row, `no local authority is partial in ${latest} (the sample's October 2017 misses LSOAs)`);
      await openView(page, base, `${view}&period=${latest}&level=lad&area=${row.code}`);
      await page.locator('#details').waitFor({ state: 'visible', timeout: 5000 });
      await idle(page);
      const partial = (await page.locator('#details [data-field="partial"]').textContent()).trim();
      const wanted = `partial: ${row.cells_with_value.toLocaleString('en-GB')} of ${row.cells.toLocaleString('en-GB')} LSOAs have data`;
      assert(partial === wanted, `panel says "${partial}", expected "${wanted}"`);
      if (row.households_complete === false) {
        assert(await page.locator('#details [data-field="households-partial"]').isVisible(), 'households_complete false not said');
      }
      const legend = await page.locator('#legend-coverage').textContent();
      const count = lad.rows.filter((r) => r.complete === false).length;
      assert(legend.includes(`${count} of ${lad.rows.length} local authorities are partial`), `legend coverage "${legend}"`);
      await shot(page, 'map-partial-1280x800.png');
      return `${row.name}: ${partial}`;
    });
  }

  const lsoa = await getJson(base, `/api/table?dataset=${published.id}&period=${latest}&level=lsoa`, { key: true });
  const hasRoundingFlag = lsoa.rows.some((r) => typeof r.rounding_dominates === 'boolean');
  const roundingName = 'a figure the rounding dominates carries the "could be of little value" note and a switch to a coarser level';
  if (!hasRoundingFlag) {
    skip(roundingName, 'hasRoundingFlag');
  } else {
    await check(roundingName, async () => {
      const row = lsoa.rows.find((r) => r.rounding_dominates === true && r.parents && r.parents.lad);
      assert(row, 'no LSOA has rounding_dominates (a published 5 has a bound of 2.5)');
      await openView(page, base, `${view}&period=${latest}&level=lsoa&area=${row.code}`);
      await page.locator('#details').waitFor({ state: 'visible', timeout: 5000 });
      await idle(page);
      const note = page.locator('#details [data-field="rounding-note"]');
      assert(await note.isVisible(), 'no rounding note');
      const text = await note.textContent();
      assert(text.includes('could be of little value'), `note "${text}"`);
      if (lsoa.suggestion) assert(text.toLowerCase().includes(lsoa.suggestion.trim().replace(/\.$/, '').toLowerCase()), `note lacks the server's suggestion "${lsoa.suggestion}"`);
      await shot(page, 'map-rounding-1280x800.png');
      await note.locator('button[data-level]').click();
      await idle(page);
      const s = await page.evaluate(() => ({ level: window.__smallareaTest.state.level, area: window.__smallareaTest.state.area }));
      assert(s.level === 'lad', `level ${s.level} after "Show by", expected lad`);
      assert(s.area === row.parents.lad, `selected ${s.area}, expected the parent ${row.parents.lad}`);
      return `${row.code} (${row.value} ± ${row.uncertainty})`;
    });
  }

  await check('no page or console errors while showing coverage, and no "public domain" anywhere', async () => {
    await assertNoPublicDomain(page, 'coverage views');
    assert(errors.length === 0, errors.join(' | '));
  });
  await context.close();
}
runBrowserTest({ label: 'browser', org: 'browser-test', tmpPrefix: 'smallarea-browser-', resultFile: 'browser-result.txt' },
  async ({ base, browser, partnerKey, shot }) => {
  const datasets = (await getJson(base, '/api/datasets', { key: true })).datasets;
  const published = datasets.find((d) => d.classification === 'published' && d.level === 'lsoa');
  const internal = datasets.find((d) => d.classification === 'internal');
  assert(published && internal, 'the sample should hold a published LSOA dataset and an internal one');

  // ------------------------------------------------------------------------------------------------- desktop
  const context = await browser.newContext(DESKTOP);
  const page = await context.newPage();
  const pageErrors = [];
  const foreign = [];
  const failedResponses = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') pageErrors.push(`console: ${m.text()}`); });
  page.on('response', (r) => { if (r.status() >= 400) failedResponses.push(`${r.status()} ${r.url()}`); });
  page.on('request', (r) => {
    const url = new URL(r.url());
    if (!['data:', 'blob:'].includes(url.protocol) && url.origin !== base) foreign.push(r.url());
  });
  const start = `${base}/#dataset=${published.id}&map=11.2/53.455/-2.27`;
  await page.goto(start, { waitUntil: 'load' });
  // Enter the partner key in the map's key field (kept in sessionStorage; the page reloads with it).
  await page.click('#api-key-summary');
  await page.fill('#api-key-input', partnerKey);
  await Promise.all([page.waitForEvent('load'), page.click('#api-key-form button[type=submit]')]);

  const loaded = await check('the map loads with WebGL and renders the choropleth', async () => {
    await idle(page);
    const info = await page.evaluate(() => {
      const map = window.__smallareaTest.map;
      const gl = map.painter.context.gl;
      const ext = gl.getExtension('WEBGL_debug_renderer_info');
      return {
        loaded: map.loaded(),
        layer: map.getLayer('areas-fill') ? map.getLayer('areas-fill').sourceLayer : null,
        renderer: ext ? gl.getParameter(ext.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER),
        colours: window.__smallareaTest.state.colours,
      };
    });
    assert(info.loaded, 'map.loaded() is false');
    assert(info.layer === 'lsoa', `choropleth source-layer is ${info.layer}, expected lsoa`);
    const seen = await renderedColours(page);
    const near = (a, b) => a.every((v, i) => Math.abs(v - b[i]) <= 3);
    const paletteSeen = info.colours.filter((c) => seen.some((s) => near(hexToRgb(s), hexToRgb(c))));
    assert(paletteSeen.length >= 3, `only ${paletteSeen.length} palette colours found in the rendered canvas (${seen.length} colours seen)`);
    return `${info.renderer}; ${paletteSeen.length}/${info.colours.length} class colours on screen`;
  });

  let probe = null;
  await check('queryRenderedFeatures returns the sample LSOAs with numeric rates', async () => {
    assert(loaded, 'map did not load');
    const features = await page.evaluate(() =>
      window.__smallareaTest.map.queryRenderedFeatures({ layers: ['areas-fill'] }).map((f) => ({ id: f.id, ...f.properties })),
    );
    assert(features.length > 50, `only ${features.length} features rendered`);
    const bad = features.filter((f) => !/^E01\d{6}$/.test(f.code));
    assert(bad.length === 0, `features with non-LSOA codes: ${bad.slice(0, 3).map((f) => f.code).join(', ')}`);
    const rated = features.filter((f) => typeof f.rate === 'number' && Number.isFinite(f.rate));
    assert(rated.length > features.length / 2, `only ${rated.length} of ${features.length} features have a numeric rate`);
    assert(features.every((f) => typeof f.id === 'number'), 'features lack numeric ids (needed for feature-state)');
    return `${features.length} features, ${rated.length} with rates`;
  });

  await check('the legend shows the classes from /api/breaks, the rule and the published label', async () => {
    const s = await page.evaluate(() => ({ ...window.__smallareaTest.state, breaks: null, row: null }));
    const q = new URLSearchParams({ dataset: s.dataset, measure: s.measure, period: s.period, level: s.level, method: s.method, classes: s.classes, of: s.of });
    const breaks = await getJson(base, `/api/breaks?${q}`, { key: true });
    const items = await page.locator('#legend-classes li[data-class-index]').count();
    assert(items === breaks.classes.length && items >= 3, `${items} legend classes, /api/breaks has ${breaks.classes.length}`);
    // The label is built from the dataset's licence (the server's, or the page's for an older server).
    const wantedLabel = `Published (${published.licence})`;
    const label = (await page.locator('#legend-label').textContent()).trim();
    assert(label === wantedLabel, `legend label is "${label}", expected "${wantedLabel}"`);
    const badge = (await page.locator('#classification-badge .badge-long').textContent()).trim();
    assert(badge === wantedLabel, `header badge is "${badge}"`);
    const rule = (await page.locator('#legend-rule').textContent()).trim();
    if (!/public domain/i.test(breaks.disclosure.rule)) assert(rule === breaks.disclosure.rule, 'legend rule differs from disclosure.rule');
    assert(rule.includes(`nearest ${breaks.disclosure.rounding_base}`), `legend rule "${rule}" lacks the rounding`);
    const credits = await page.locator('#credits').textContent();
    assert(credits.includes(published.licence) && credits.includes('Crown copyright'), `credits "${credits}" lack the dataset licence or the boundary statement`);
    await assertNoPublicDomain(page, 'published dataset');
    const rounding = await page.locator('#legend-rounding').textContent();
    assert(rounding.includes(`nearest ${breaks.disclosure.rounding_base}`), `rounding line "${rounding}" lacks the base`);
    assert(await page.locator('#internal-banner').isHidden(), 'internal banner shown for published data');
    const first = (await page.locator('#legend-classes li[data-class-index="0"] .class-range').textContent()).trim();
    return `${items} classes, first "${first}"`;
  });

  await check('accessibility: the first view has no serious or critical WCAG 2.2 AA violation (axe-core)', async () =>
    auditAccessibility(page, 'first view'));

  await check('the first view asks for nothing the server does not have (no 4xx/5xx, no console errors)', async () => {
    assert(failedResponses.length === 0, `failed requests: ${failedResponses.slice(0, 5).join(', ')}`);
    assert(pageErrors.length === 0, `errors: ${pageErrors.slice(0, 3).join(' | ')}`);
    return 'none';
  });

  await check('hovering an area sets its hover feature-state', async () => {
    probe = await findArea(page, 'rate');
    assert(probe, 'no area with a rate found under the map centre');
    await page.mouse.move(probe.pageX, probe.pageY);
    await page.waitForFunction(
      (id) => {
        const s = window.__smallareaTest.map.getFeatureState({ source: 'areas', sourceLayer: 'lsoa', id });
        return s && s.hover === true;
      },
      probe.id,
      { timeout: 5000 },
    );
    const tip = await page.locator('#tooltip').textContent();
    assert(tip.includes(probe.props.name), `tooltip "${tip}" lacks ${probe.props.name}`);
    return `${probe.code}`;
  });

  await check('clicking an area opens the panel with the value /api/table gives for it', async () => {
    assert(probe, 'no area to click');
    await page.mouse.click(probe.pageX, probe.pageY);
    await page.locator('#details').waitFor({ state: 'visible', timeout: 5000 });
    await idle(page);
    const s = await page.evaluate(() => ({ ...window.__smallareaTest.state, breaks: null }));
    assert(s.area === probe.code, `selected ${s.area}, clicked ${probe.code}`);
    const q = new URLSearchParams({ dataset: s.dataset, measure: s.measure, period: s.period, level: s.level, within: probe.code });
    const table = await getJson(base, `/api/table?${q}`, { key: true });
    const row = table.rows.find((r) => r.code === probe.code);
    assert(row, `/api/table has no row for ${probe.code}`);
    const code = (await page.locator('#details [data-field="code"]').textContent()).trim();
    const value = number(await page.locator('#details [data-field="value"] .num').textContent());
    const rate = number(await page.locator('#details [data-field="rate"]').textContent());
    const households = number(await page.locator('#details [data-field="households"]').textContent());
    assert(code === probe.code, `panel code ${code}`);
    assert(value === row.value, `panel value ${value}, /api/table ${row.value}`);
    assert(Math.abs(rate - row.rate_per_100_households) < 0.0051, `panel rate ${rate}, /api/table ${row.rate_per_100_households}`);
    assert(households === row.households, `panel households ${households}, /api/table ${row.households}`);
    assert(Math.abs(probe.props.rate - row.rate_per_100_households) < 0.0051, `tile rate ${probe.props.rate}, table ${row.rate_per_100_households}`);
    const lad = await page.locator('#details [data-field="parent-lad"]').textContent();
    assert(lad.includes(row.parents.lad), `panel parent "${lad}" lacks ${row.parents.lad}`);
    const rule = (await page.locator('#details .disclosure-rule').textContent()).trim();
    if (!/public domain/i.test(table.disclosure.rule)) assert(rule === table.disclosure.rule, 'panel rule differs from the table disclosure.rule');
    await assertNoPublicDomain(page, 'area panel');
    const selectedFilter = await page.evaluate(() => window.__smallareaTest.map.getFilter('areas-selected'));
    assert(JSON.stringify(selectedFilter).includes(probe.code), 'selected outline filter does not name the area');
    return `${probe.code}: value ${value}, rate ${rate}`;
  });

  await page.waitForTimeout(300);
  await shot(page, 'map-1280x800.png');

  await coverageChecks({ base, browser, published, shot });

  await check('accessibility: the area panel open has no serious or critical violation (axe-core)', async () =>
    auditAccessibility(page, 'area panel'));

  await check('the URL reproduces the view after a reload (dataset, measure, period, zoom, centre, selection)', async () => {
    // Change things so that defaults would not pass by accident.
    await page.selectOption('#classes', '7');
    await page.selectOption('#method', 'jenks');
    const periods = published.periods;
    if (periods.length > 1) await page.selectOption('#period', periods[0]);
    await page.evaluate(() => window.__smallareaTest.map.jumpTo({ zoom: 11.6, center: [-2.26, 53.46] }));
    await idle(page);
    const before = await page.evaluate(() => ({ ...window.__smallareaTest.state, breaks: null, row: null, href: window.location.href }));
    assert(before.href.includes('area='), `URL ${before.href} lacks the selection`);
    await page.goto('about:blank');
    await page.goto(before.href, { waitUntil: 'load' });
    await idle(page);
    const after = await page.evaluate(() => {
      const map = window.__smallareaTest.map;
      const c = map.getCenter();
      return { ...window.__smallareaTest.state, breaks: null, row: null, zoom: map.getZoom(), lat: c.lat, lng: c.lng };
    });
    for (const key of ['dataset', 'measure', 'period', 'level', 'of', 'method', 'classes', 'area']) {
      assert(String(after[key]) === String(before[key]), `${key}: ${after[key]} after reload, ${before[key]} before`);
    }
    assert(Math.abs(after.zoom - before.view.zoom) < 0.01, `zoom ${after.zoom} vs ${before.view.zoom}`);
    assert(Math.abs(after.lat - before.view.lat) < 1e-4 && Math.abs(after.lng - before.view.lng) < 1e-4, 'centre moved');
    assert(await page.locator('#details').isVisible(), 'details panel not reopened');
    const code = (await page.locator('#details [data-field="code"]').textContent()).trim();
    assert(code === before.area, `panel shows ${code}, URL selected ${before.area}`);
    assert((await page.locator('#period').inputValue()) === before.period, 'period picker not restored');
    assert((await page.locator('#classes').inputValue()) === String(before.classes), 'classes picker not restored');
    const items = await page.locator('#legend-classes li[data-class-index]').count();
    assert(items >= 3, `${items} legend classes after reload`);
    return new URL(before.href).hash;
  });

  await check('selecting the internal dataset shows the internal label and its OA areas', async () => {
    await page.selectOption('#dataset', internal.id);
    await idle(page);
    const label = (await page.locator('#legend-label').textContent()).trim();
    assert(label === 'Internal MI: not for onward sharing', `legend label is "${label}"`);
    assert((await page.locator('#classification-badge').getAttribute('data-classification')) === 'internal', 'badge not internal');
    assert(await page.locator('#internal-banner').isVisible(), 'internal banner hidden');
    const s = await page.evaluate(() => ({ ...window.__smallareaTest.state, breaks: null, row: null, hash: window.location.hash }));
    assert(s.level === internal.level, `level ${s.level}, dataset level ${internal.level}`);
    assert(s.area === null && !(await page.locator('#details').isVisible()), 'selection survived a dataset change');
    assert(s.hash.includes(`dataset=${internal.id}`), `URL ${s.hash} does not name the dataset`);
    const features = await page.evaluate(() => window.__smallareaTest.map.queryRenderedFeatures({ layers: ['areas-fill'] }).map((f) => f.properties.code));
    assert(features.length > 0 && features.every((c) => /^E00\d{6}$/.test(c)), `expected OA codes, got ${features.slice(0, 3).join(', ')}`);
    const rounding = await page.locator('#legend-rounding').textContent();
    assert(rounding.includes(`nearest ${internal.disclosure.rounding_base}`), `rounding line "${rounding}"`);
    const credits = await page.locator('#credits').textContent();
    assert(credits.includes(internal.licence), `credits "${credits}" lack the internal dataset's licence`);
    await assertNoPublicDomain(page, 'internal dataset');
    return `${features.length} OAs`;
  });

  await check('a percentage-only measure maps percent, never counts, and hatches suppressed areas', async () => {
    const measure = internal.measures.find((m) => m.kind === 'percent_only');
    assert(measure, 'no percent_only measure in the internal dataset');
    await page.selectOption('#measure', measure.id);
    await idle(page);
    const s = await page.evaluate(() => ({ of: window.__smallareaTest.state.of }));
    assert(s.of === 'percent', `mapped ${s.of}`);
    const features = await page.evaluate(() => window.__smallareaTest.map.queryRenderedFeatures({ layers: ['areas-fill'] }).map((f) => f.properties));
    assert(features.every((f) => f.value === undefined && f.rate === undefined), 'a percent-only tile carried a value or rate');
    const hatched = await page.evaluate(() => window.__smallareaTest.map.queryRenderedFeatures({ layers: ['areas-hatch'] }).length);
    const suppressed = features.filter((f) => f.suppressed).length;
    assert(hatched === suppressed, `${hatched} hatched features, ${suppressed} suppressed`);
    assert(await page.locator('.legend-nodata').isVisible(), 'no suppressed entry in the legend');
    const ofOptions = await page.locator('#of option').allTextContents();
    assert(ofOptions.length === 1, `"show as" offers ${ofOptions.join(', ')}`);
    return `${suppressed} suppressed of ${features.length}`;
  });

  await check('accessibility: a percentage-only internal map has no serious or critical violation (axe-core)', async () =>
    auditAccessibility(page, 'internal percentage map'));

  await check('the internal OA dataset can be pinned to the coarser LSOA level', async () => {
    await page.selectOption('#measure', internal.measures.find((m) => m.kind === 'count').id);
    await page.selectOption('#level', 'lsoa');
    await idle(page);
    const features = await page.evaluate(() => window.__smallareaTest.map.queryRenderedFeatures({ layers: ['areas-fill'] }).map((f) => f.properties));
    assert(features.length > 0 && features.every((f) => /^E01/.test(f.code)), 'features are not LSOAs');
    const rounded = features.filter((f) => typeof f.value === 'number');
    const base = internal.disclosure.rounding_base;
    assert(rounded.every((f) => f.value % base === 0), `an aggregated value is not a sum of cells rounded to ${base}`);
    const levels = await page.locator('#level option').evaluateAll((o) => o.map((x) => x.value));
    assert(!levels.includes('oa') || internal.level === 'oa', 'finer level offered');
    return `${features.length} LSOAs, options ${levels.join('/')}`;
  });
  await shot(page, 'map-internal-1280x800.png');

  await check('no page errors and no request leaves the server (no CDN, no basemap by default)', async () => {
    assert(pageErrors.length === 0, `page errors: ${pageErrors.join(' | ')}`);
    assert(foreign.length === 0, `external requests: ${foreign.slice(0, 3).join(', ')}`);
    const attribution = await page.locator('.maplibregl-ctrl-attrib').textContent();
    assert(attribution.includes('Open Government Licence v3.0') && attribution.includes('Crown copyright'), 'boundary attribution missing on the map');
    assert(attribution.includes(internal.licence), `the map attribution "${attribution}" lacks the mapped dataset's licence`);
    assert(!/public domain/i.test(attribution), 'the map attribution says "public domain"');
  });
  await context.close();

  // --------------------------------------------------------------------------------------------------- phone
  await check('on a 390 px phone the panel sits below the map and nothing overflows', async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    const p = await phone.newPage();
    const errors = [];
    p.on('pageerror', (e) => errors.push(e.message));
    const target = probe ? probe.code : '';
    await p.goto(`${base}/#dataset=${published.id}&map=10.6/53.45/-2.28${target ? `&area=${target}` : ''}`, { waitUntil: 'load' });
    await idle(p);
    const box = await p.evaluate(() => {
      const m = document.getElementById('map').getBoundingClientRect();
      const panel = document.getElementById('panel').getBoundingClientRect();
      return { mapBottom: m.bottom, mapWidth: m.width, mapHeight: m.height, panelTop: panel.top, scrollWidth: document.documentElement.scrollWidth };
    });
    assert(box.panelTop >= box.mapBottom - 1, `panel top ${box.panelTop} above map bottom ${box.mapBottom}`);
    assert(box.mapWidth >= 389 && box.mapHeight >= 300, `map is ${box.mapWidth}x${box.mapHeight}`);
    assert(box.scrollWidth <= 390, `page is ${box.scrollWidth} px wide`);
    const n = await p.evaluate(() => window.__smallareaTest.map.queryRenderedFeatures({ layers: ['areas-fill'] }).length);
    assert(n > 0, 'no features rendered on the phone');
    if (target) assert(await p.locator('#details').isVisible(), 'selected area panel not shown on phone');
    assert(errors.length === 0, `page errors: ${errors.join(' | ')}`);
    await shot(p, 'map-390x844.png');
    await shot(p, 'map-390x844-full.png', { fullPage: true });
    await phone.close();
    return `${n} features; map ${box.mapWidth}x${Math.round(box.mapHeight)}`;
  });
  });
