#!/usr/bin/env node
// Browser test of what an outreach planner does beyond the choropleth (tests/browser/harness.mjs: sample store, real
// server on 127.0.0.1, Debian's chromium through playwright-core), each state audited with axe-core:
//  - the first view at 1366x768 and 1400x900: pickers and legend visible without scrolling, no failed request;
//  - the area panel's series chart (/api/series, uPlot) with its table; Escape closes the panel;
//  - the change map (compare=PERIOD): diverging classes, "no change within rounding" as its own class, the panel's
//    change, all matching /api/table?compare=;
//  - the table of the map (the canvas's text alternative) as a modal dialog that Escape closes;
//  - the outreach sheet of a target and of a zone, printed (print media emulated) and saved as PNG and PDF;
//  - target and zone parameters in the URL, restored by a reload;
//  - "Internal MI: not for onward sharing" once per group of visible download links.
//
// Usage: node tests/browser/outreach.test.mjs --server BIN --web DIR --sample MANIFEST --out DIR [--keep] [--timeout S]
// Prints one line per check and finally `browser-outreach: N passed, M failed`; exits 0 only if every check passed.

import {
  assert, assertNoPublicDomain, auditAccessibility, check, getJson, idle, runBrowserTest,
} from './harness.mjs';

async function open(page, url) {
  await page.goto('about:blank');
  await page.goto(url, { waitUntil: 'load' });
  await idle(page);
}

// A rendered area with a numeric `prop` near the middle of the map (page coordinates to click).
async function areaWith(page, prop) {
  return page.evaluate((p) => {
    const map = window.__smallareaTest.map;
    const canvas = map.getCanvas();
    const rect = canvas.getBoundingClientRect();
    for (let fy = 0.5; fy < 0.9; fy += 0.04) {
      for (let fx = 0.45; fx < 0.85; fx += 0.04) {
        const x = Math.round(canvas.clientWidth * fx);
        const y = Math.round(canvas.clientHeight * fy);
        const [f] = map.queryRenderedFeatures([x, y], { layers: ['areas-fill'] });
        if (f && typeof f.properties[p] === 'number') return { code: f.properties.code, props: f.properties, pageX: rect.left + x, pageY: rect.top + y };
      }
    }
    return null;
  }, prop);
}

runBrowserTest({ label: 'browser-outreach', org: 'browser-outreach', tmpPrefix: 'smallarea-outreach-' },
  async ({ args, base, browser, partnerKey, shot }) => {
  const datasets = (await getJson(base, '/api/datasets', { key: true })).datasets;
  const published = datasets.find((d) => d.classification === 'published' && d.level === 'lsoa' && d.periods.length > 1);
  const internal = datasets.find((d) => d.classification === 'internal');
  assert(published && internal, 'the sample should hold a published LSOA dataset of two periods and an internal one');
  const [earlier, latest] = [published.periods[0], published.periods[published.periods.length - 1]];
  const start = `${base}/#dataset=${published.id}&map=11.2/53.455/-2.27`;

  // ------------------------------------------------------------------------------------------- first view
  for (const viewport of [{ width: 1366, height: 768 }, { width: 1400, height: 900 }]) {
    await check(`at ${viewport.width}x${viewport.height} the pickers and the legend are visible without scrolling, and nothing fails to load`, async () => {
      const context = await browser.newContext({ viewport, deviceScaleFactor: 1 });
      const page = await context.newPage();
      const failed = [];
      const errors = [];
      page.on('response', (r) => { if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`); });
      page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
      page.on('pageerror', (e) => errors.push(e.message));
      await open(page, `${base}/#dataset=${published.id}`);
      const boxes = await page.evaluate(() => {
        const r = (id) => document.getElementById(id).getBoundingClientRect();
        return { height: window.innerHeight, width: window.innerWidth, scroll: document.getElementById('panel').scrollTop,
          pickers: ['dataset', 'measure', 'period', 'compare', 'level'].map((id) => ({ id, bottom: r(id).bottom, top: r(id).top })),
          legend: r('legend-classes'), legendItems: document.querySelectorAll('#legend-classes li[data-class-index]').length };
      });
      await shot(page, `first-view-${viewport.width}x${viewport.height}.png`);
      await context.close();
      assert(boxes.scroll === 0, 'the panel opened scrolled');
      for (const p of boxes.pickers) assert(p.top >= 0 && p.bottom <= boxes.height, `#${p.id} spans ${p.top}-${p.bottom}, the window is ${boxes.height} high`);
      assert(boxes.legendItems >= 3 && boxes.legend.bottom <= boxes.height, `legend classes end at ${boxes.legend.bottom} (window ${boxes.height})`);
      assert(failed.length === 0, `failed requests: ${failed.join(', ')}`);
      assert(errors.length === 0, `console errors: ${errors.join(' | ')}`);
      return `legend ends at ${Math.round(boxes.legend.bottom)} of ${boxes.height} px`;
    });
  }

  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1, acceptDownloads: true });
  const page = await context.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') pageErrors.push(`console: ${m.text()}`); });
  await open(page, start);

  // ------------------------------------------------------------------------------------------- keyboard
  await check('Tab reaches the pickers before the tools, the table of the map and the tools, each with a visible focus indicator', async () => {
    await page.evaluate(() => document.activeElement && document.activeElement.blur());
    const seen = [];
    for (let i = 0; i < 80; i += 1) {
      await page.keyboard.press('Tab');
      const f = await page.evaluate(() => {
        const el = document.activeElement;
        if (!el || el === document.body) return null;
        const cs = getComputedStyle(el);
        const outline = cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0;
        return { id: el.id || `${el.tagName.toLowerCase()}.${el.className}`, visible: outline || cs.boxShadow !== 'none' };
      });
      if (!f) continue;
      if (seen.length && f.id === seen[0].id) break; // wrapped round
      seen.push(f);
    }
    const order = seen.map((f) => f.id);
    const at = (id) => order.indexOf(id);
    for (const id of ['dataset', 'period', 'compare', 'of', 'view-table-open', 'targets-find', 'zones-build']) assert(at(id) >= 0, `Tab never reaches #${id} (${order.join(', ')})`);
    // The order the eye reads the panel: pickers, then the legend's downloads, then the tools.
    assert(at('dataset') < at('download-csv') && at('download-csv') < at('targets-find') && at('compare') < at('zones-build'), `focus order is not the panel's order: ${order.join(', ')}`);
    const invisible = seen.filter((f) => !f.visible).map((f) => f.id);
    assert(invisible.length === 0, `no visible focus on ${invisible.join(', ')}`);
    return `${seen.length} stops: ${order.slice(0, 8).join(', ')}, ...`;
  });

  // ------------------------------------------------------------------------------------------- series chart
  let clicked = null;
  await check('the area panel charts every period /api/series gives, with a table of the same figures', async () => {
    clicked = await areaWith(page, 'rate');
    assert(clicked, 'no area with a rate under the map');
    await page.mouse.click(clicked.pageX, clicked.pageY);
    await page.locator('#series-table').waitFor({ state: 'attached', timeout: 10000 });
    await idle(page);
    const code = await page.evaluate(() => window.__smallareaTest.state.area);
    const api = await getJson(base, `/api/series?dataset=${published.id}&measure=${published.measures[0].id}&area=${code}`);
    assert(api.periods.length === published.periods.length, `series has ${api.periods.length} periods, the dataset ${published.periods.length}`);
    const rows = await page.locator('#series-table tbody tr').evaluateAll((trs) => trs.map((tr) => ({ period: tr.dataset.period, figure: tr.querySelector('td').textContent })));
    assert(rows.length === api.periods.length, `table has ${rows.length} rows`);
    api.periods.forEach((p, i) => {
      assert(rows[i].period === p.period, `row ${i} is ${rows[i].period}, API ${p.period}`);
      const wanted = typeof p.rate_per_100_households === 'number' && !p.suppressed ? p.rate_per_100_households.toFixed(2) : '–';
      assert(rows[i].figure === wanted, `${p.period}: table says ${rows[i].figure}, API ${wanted}`);
    });
    const chart = await page.evaluate(() => {
      const box = document.getElementById('series-chart');
      const canvas = box.querySelector('canvas');
      if (!canvas) return null;
      // Count painted pixels: an empty chart (no line, no band) would be all transparent.
      const ctx = canvas.getContext('2d');
      const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
      let line = 0;
      let band = 0;
      for (let i = 0; i < data.length; i += 4) {
        if (data[i + 3] > 200 && data[i + 2] > 140 && data[i] < 60) line += 1; // #1d5fa8
        else if (data[i + 3] > 20 && data[i + 3] < 90) band += 1; // the translucent band
      }
      return { label: box.getAttribute('aria-label'), role: box.getAttribute('role'), line, band, points: window.__smallareaTest.series.points.length };
    });
    assert(chart, 'no chart canvas');
    assert(chart.role === 'img' && /Chart: /.test(chart.label), `chart has role ${chart.role}, label "${chart.label}"`);
    assert(chart.line > 20, `only ${chart.line} line pixels drawn`);
    const bounded = api.periods.some((p) => p.uncertainty > 0 && typeof p.rate_per_100_households === 'number');
    if (bounded) assert(chart.band > 20, `only ${chart.band} band pixels drawn for a bound of ${api.periods.map((p) => p.uncertainty).join(', ')}`);
    await shot(page.locator('#details'), 'series-panel.png');
    return `${code}: ${rows.map((r) => `${r.period} ${r.figure}`).join(', ')}; ${chart.line} line px, ${chart.band} band px`;
  });

  await check('accessibility: the area panel with its series has no serious or critical violation (axe-core)', async () =>
    auditAccessibility(page, 'area panel with series'));

  await check('Escape closes the area panel and clears the selection from the URL', async () => {
    await page.locator('#details-close').focus();
    await page.keyboard.press('Escape');
    await page.locator('#details').waitFor({ state: 'hidden', timeout: 3000 });
    const hash = await page.evaluate(() => window.location.hash);
    assert(!hash.includes('area='), `URL still selects: ${hash}`);
    return 'closed';
  });

  // ------------------------------------------------------------------------------------------- change map
  await check('"Change since" maps the change with diverging classes and "no change within rounding" as its own class', async () => {
    await page.selectOption('#compare', earlier);
    await idle(page);
    const s = await page.evaluate(() => ({ compare: window.__smallareaTest.state.compare, hash: window.location.hash, breaks: window.__smallareaTest.state.breaks }));
    assert(s.compare === earlier && s.hash.includes(`compare=${earlier}`), `state ${s.compare}, URL ${s.hash}`);
    const table = await getJson(base, `/api/table?dataset=${published.id}&period=${latest}&level=lsoa&compare=${earlier}`);
    const comparable = table.rows.filter((r) => r.change && r.change.comparable);
    const within = comparable.filter((r) => r.change.within_rounding).length;
    const tiles = await page.evaluate(() => window.__smallareaTest.map.queryRenderedFeatures({ layers: ['areas-fill'] }).map((f) => f.properties));
    const withChange = tiles.filter((p) => typeof p.change_rate === 'number');
    assert(withChange.length > 0, 'no rendered area carries change_rate (tiles without compare?)');
    const source = await page.evaluate(() => window.__smallareaTest.map.getSource('areas').tiles[0]);
    assert(source.includes(`compare=${earlier}`), `tile URL ${source}`);
    // Legend: six classes and the neutral one, counts as the table gives.
    const legend = await page.locator('#legend-classes li').evaluateAll((lis) => lis.map((li) => ({ change: li.dataset.changeClass || '', index: li.dataset.classIndex,
      text: li.textContent, count: Number(li.querySelector('.class-count').textContent.replace(/[^\d]/g, '')) })));
    const neutral = legend.find((l) => l.change === 'within-rounding');
    assert(neutral && neutral.text.includes('No change within rounding') && neutral.count === within, `neutral entry: ${neutral && neutral.text} (table: ${within})`);
    const classCounts = legend.filter((l) => l.index !== undefined).map((l) => l.count);
    assert(classCounts.length === 6, `${classCounts.length} change classes`);
    const moved = comparable.filter((r) => !r.change.within_rounding && typeof r.change.rate_per_100_households === 'number').length;
    assert(classCounts.reduce((a, b) => a + b, 0) === moved, `classes count ${classCounts.join('+')}, table has ${moved} changes beyond rounding`);
    // The fill: a neutral area is grey, a rise red-ish, a fall blue-ish (RdBu), checked on the layer's own colours.
    const colours = await page.evaluate(() => {
      const map = window.__smallareaTest.map;
      const out = { within: null, rise: null, fall: null };
      for (const f of map.queryRenderedFeatures({ layers: ['areas-fill'] })) {
        const p = f.properties;
        const c = f.layer.paint['fill-color'];
        const hex = `rgb(${Math.round(c.r * 255)},${Math.round(c.g * 255)},${Math.round(c.b * 255)})`;
        if (p.no_change_within_rounding) out.within = hex;
        else if (p.change_rate > 0) out.rise = hex;
        else if (p.change_rate < 0) out.fall = hex;
      }
      return out;
    });
    if (colours.within) assert(colours.within === 'rgb(229,229,229)', `a no-change area is ${colours.within}`);
    const rgb = (t) => t.match(/\d+/g).map(Number);
    if (colours.rise) assert(rgb(colours.rise)[0] > rgb(colours.rise)[2], `a rise is ${colours.rise}, expected red side`);
    if (colours.fall) assert(rgb(colours.fall)[2] > rgb(colours.fall)[0], `a fall is ${colours.fall}, expected blue side`);
    const dotted = await page.evaluate(() => window.__smallareaTest.map.queryRenderedFeatures({ layers: ['areas-nochange'] }).length);
    const neutralRendered = tiles.filter((p) => p.no_change_within_rounding).length;
    assert(dotted === neutralRendered, `${dotted} dotted areas, ${neutralRendered} rendered as within rounding`);
    await shot(page, 'change-map-1280x800.png');
    return `${comparable.length} compared, ${within} within rounding, classes ${classCounts.join('/')}; colours ${JSON.stringify(colours)}`;
  });

  await check('in a change map the area panel gives the change and its bound, as /api/table?compare= does', async () => {
    const a = await areaWith(page, 'change_rate');
    assert(a, 'no area with a change under the map');
    await page.mouse.click(a.pageX, a.pageY);
    await page.locator('#details [data-field="change"]').waitFor({ timeout: 10000 });
    await idle(page);
    const code = await page.evaluate(() => window.__smallareaTest.state.area);
    const table = await getJson(base, `/api/table?dataset=${published.id}&period=${latest}&level=lsoa&within=${code}&compare=${earlier}`);
    const row = table.rows.find((r) => r.code === code);
    const text = (await page.locator('#details [data-field="change"]').textContent()).replace(/\s+/g, ' ');
    const v = row.change.rate_per_100_households;
    const wanted = `${v > 0 ? '+' : v < 0 ? '−' : ''}${Math.abs(v).toFixed(2)}`;
    assert(text.startsWith(wanted), `panel "${text}", API ${v}`);
    assert(text.includes(`± ${row.change.rate_uncertainty.toFixed(2)}`), `panel "${text}" lacks ± ${row.change.rate_uncertainty}`);
    assert(text.includes('no change within rounding') === row.change.within_rounding, `within-rounding flag differs: "${text}"`);
    return `${code}: ${text}`;
  });

  await check('accessibility: the change map and its panel have no serious or critical violation (axe-core)', async () =>
    auditAccessibility(page, 'change map'));

  // ------------------------------------------------------------------------------------------- table of the map
  await check('"Table of this map" lists the areas drawn, with the figures /api/table gives, and Escape closes it', async () => {
    await page.keyboard.press('Escape'); // the panel first
    await page.locator('#view-table-open').focus();
    await page.keyboard.press('Enter');
    await page.locator('#view-table tbody tr').first().waitFor({ timeout: 10000 });
    await idle(page);
    const info = await page.evaluate(() => ({ rows: window.__smallareaTest.viewTable.rows.length, inView: window.__smallareaTest.viewTable.inView,
      trs: document.querySelectorAll('#view-table tbody tr').length, heads: [...document.querySelectorAll('#view-table thead th')].map((t) => t.textContent),
      caption: document.querySelector('#view-table caption').textContent, first: document.querySelector('#view-table tbody tr').dataset.code,
      firstRate: document.querySelector('#view-table tbody tr td:nth-child(4)').textContent }));
    assert(info.trs === info.rows && info.rows > 10 && info.rows <= info.inView, `${info.trs} rows, ${info.inView} areas in view`);
    assert(info.heads.includes(`Change since ${new Date(`${earlier}-01T00:00:00Z`).toLocaleDateString('en-GB', { month: 'long', year: 'numeric', timeZone: 'UTC' })}`), `heads ${info.heads.join('|')}`);
    const table = await getJson(base, `/api/table?dataset=${published.id}&period=${latest}&level=lsoa&within=${info.first}`);
    const r = table.rows.find((x) => x.code === info.first);
    const wanted = typeof r.rate_per_100_households === 'number' ? r.rate_per_100_households.toFixed(2) : '–';
    assert(info.firstRate === wanted, `${info.first}: table of the map says ${info.firstRate}, API ${wanted}`);
    await shot(page, 'view-table.png');
    const audit = await auditAccessibility(page, 'table of the map');
    await page.keyboard.press('Escape');
    await page.waitForFunction(() => !document.getElementById('view-table-dialog').open, null, { timeout: 3000 });
    const focus = await page.evaluate(() => document.activeElement.id);
    assert(focus === 'view-table-open', `focus went to ${focus}`);
    // By keyboard: reopen it, and Enter on a row's area opens that area's panel with the focus there.
    await page.keyboard.press('Enter');
    await page.locator('#view-table tbody button[data-select]').nth(2).waitFor({ timeout: 10000 });
    await idle(page);
    const pick = page.locator('#view-table tbody button[data-select]').nth(2);
    const code = await pick.getAttribute('data-select');
    await pick.focus();
    await page.keyboard.press('Enter');
    await page.locator('#details').waitFor({ state: 'visible', timeout: 5000 });
    await idle(page);
    const picked = await page.evaluate(() => ({ area: window.__smallareaTest.state.area, focus: document.activeElement.id,
      shown: document.querySelector('#details [data-field="code"]').textContent.trim() }));
    assert(picked.area === code && picked.shown === code, `chose ${code}, selected ${picked.area}, panel shows ${picked.shown}`);
    assert(picked.focus === 'details', `focus on ${picked.focus} after choosing an area`);
    return `${info.rows} rows of ${info.inView} in view; chose ${code} by keyboard; ${audit}`;
  });

  // ------------------------------------------------------------------------------------------- targets and the sheet
  await page.selectOption('#compare', '');
  // No selected area (its outline is pink too): the sheet's picture must get its pink from the patch alone.
  if (await page.locator('#details').isVisible()) await page.click('#details-close');
  await idle(page);
  await check('a target\'s outreach sheet prints on A4 with the map, households, figure ± bound, rule and names', async () => {
    await page.fill('#targets-min', '100');
    await page.fill('#targets-max', '150');
    await page.fill('#targets-limit', '20');
    // Within Trafford, the district the sample's postcodes cover (when the server has postcodes).
    await page.selectOption('#targets-within', 'E08000009');
    await page.click('#targets-find');
    await page.waitForFunction(() => document.querySelectorAll('#targets-list li').length > 0, null, { timeout: 20000 });
    await idle(page);
    const api = await getJson(base, `/api/targets?dataset=${published.id}&min_households=100&max_households=150&limit=20&within=E08000009`);
    assert(api.rows.every((x) => x.places && x.places.lad && x.places.lad.code === 'E08000009'), 'a target outside Trafford');
    // A row with postcodes when the server lists them (the sample's postcodes cover Trafford), else the first.
    const r = api.rows.find((x) => Array.isArray(x.postcodes) && x.postcodes.length > 0) || api.rows[0];
    // The patches are outlined with a dark halo under a white line (legible over every class colour).
    const outlined = await page.evaluate(() => window.__smallareaTest.map.queryRenderedFeatures({ layers: ['targets-outline-casing', 'targets-outline-line'] }).length);
    assert(outlined >= 2, `${outlined} target outline features rendered`);
    await shot(page, 'targets-outline-1280x800.png');
    await page.locator(`#targets-list button[data-sheet="${r.code}"]`).click();
    await page.locator('#sheet-title').waitFor({ timeout: 20000 });
    const info = await page.evaluate(() => ({ sheet: { ...window.__smallareaTest.sheet }, focus: document.activeElement.id,
      households: document.querySelector('#sheet [data-field="households"]').textContent,
      figure: document.querySelector('#sheet [data-field="figure"]').textContent,
      rule: document.querySelector('#sheet [data-field="rule"]').textContent,
      classification: document.querySelector('#sheet [data-field="classification"]').textContent,
      lad: (document.querySelector('#sheet [data-field="lad"]') || {}).textContent || '',
      grid: (document.querySelector('#sheet [data-field="grid-ref"]') || {}).textContent || '',
      ward: (document.querySelector('#sheet [data-field="ward"]') || {}).textContent || '',
      postcodes: document.querySelectorAll('#sheet-postcode-list li').length,
      internal: Boolean(document.querySelector('#sheet [data-field="internal"]')),
      img: (() => { const i = document.getElementById('sheet-map'); return i ? { w: i.naturalWidth, h: i.naturalHeight, alt: i.alt } : null; })() }));
    assert(info.sheet.open && info.sheet.code === r.code, `sheet for ${info.sheet.code}, first target ${r.code}`);
    // The picture outlines the patch in pink (#d6336c), and the map is left as it was (no focus layer, tint back).
    const pic = await page.evaluate(() => {
      const img = document.getElementById('sheet-map');
      const c = document.createElement('canvas');
      c.width = img.naturalWidth;
      c.height = img.naturalHeight;
      const ctx = c.getContext('2d');
      ctx.drawImage(img, 0, 0);
      const d = ctx.getImageData(0, 0, c.width, c.height).data;
      let pink = 0;
      for (let i = 0; i < d.length; i += 4) if (Math.abs(d[i] - 214) < 12 && Math.abs(d[i + 1] - 51) < 12 && Math.abs(d[i + 2] - 108) < 12) pink += 1;
      const map = window.__smallareaTest.map;
      return { pink, focusLeft: Boolean(map.getLayer('sheet-focus-line')), tint: map.getLayoutProperty('targets-fill', 'visibility') || 'visible' };
    });
    assert(pic.pink > 100, `only ${pic.pink} pink pixels: the patch is not outlined in the picture`);
    assert(!pic.focusLeft && pic.tint === 'visible', `map not restored: focus layer ${pic.focusLeft}, targets tint ${pic.tint}`);
    assert(info.focus === 'sheet-title', `focus on ${info.focus}`);
    assert(info.img && info.img.w > 200 && info.img.h > 200 && info.img.alt.includes(r.name), `map picture ${JSON.stringify(info.img)}`);
    assert(info.households === r.households.toLocaleString('en-GB'), `households "${info.households}", API ${r.households}`);
    assert(info.figure.startsWith(`${r.value.toLocaleString('en-GB')} ± ${r.uncertainty.toLocaleString('en-GB')}`), `figure "${info.figure}"`);
    assert(info.figure.includes(r.rate_low.toFixed(2)) && info.figure.includes(r.rate_high.toFixed(2)), `figure "${info.figure}" lacks the rate range`);
    assert(info.rule.includes(`nearest ${api.disclosure.rounding_base}`), `rule "${info.rule}"`);
    assert(info.classification.includes(published.licence), `classification "${info.classification}"`);
    assert(!info.internal, 'a published sheet says Internal MI');
    if (r.places && r.places.lad) assert(info.lad.includes(r.places.lad.name), `district "${info.lad}"`);
    if (r.grid_ref) assert(info.grid === r.grid_ref, `grid ref "${info.grid}"`);
    assert(info.postcodes === (Array.isArray(r.postcodes) ? r.postcodes.length : 0), `${info.postcodes} postcodes listed, API ${Array.isArray(r.postcodes) ? r.postcodes.length : 'none'}`);
    if (Array.isArray(r.postcodes) && r.postcodes.length) {
      const listed = await page.locator('#sheet-postcode-list li').allTextContents();
      assert(JSON.stringify(listed) === JSON.stringify(r.postcodes), `sheet lists ${listed.slice(0, 3).join(', ')}..., API ${r.postcodes.slice(0, 3).join(', ')}...`);
      if (r.ward && r.ward.name) assert(info.ward.includes(r.ward.name), `ward "${info.ward}", API ${r.ward.name}`);
    }
    const audit = await auditAccessibility(page, 'outreach sheet');
    await page.emulateMedia({ media: 'print' });
    const printed = await page.evaluate(() => ({
      others: [...document.body.children].filter((e) => e.id !== 'sheet' && getComputedStyle(e).display !== 'none' && e.tagName !== 'SCRIPT').map((e) => e.id || e.className),
      actions: getComputedStyle(document.querySelector('.sheet-actions')).display,
    }));
    assert(printed.others.length === 0, `printed with the sheet: ${printed.others.join(', ')}`);
    assert(printed.actions === 'none', 'the Print/Close buttons print');
    await shot(page, 'outreach-sheet-print.png', { fullPage: true });
    await page.pdf({ path: `${args.out}/outreach-sheet.pdf`, format: 'A4', preferCSSPageSize: true });
    await page.emulateMedia({ media: 'screen' });
    await page.keyboard.press('Escape');
    await page.locator('#sheet').waitFor({ state: 'hidden', timeout: 3000 });
    return `${r.code}${info.ward ? ` (${info.ward})` : ''}: ${info.figure}; map ${info.img.w}x${info.img.h} (${pic.pink} outline px); ${info.postcodes} postcodes; ${audit}`;
  });

  await check('a zone\'s outreach sheet names its areas and households and says Internal MI for internal data', async () => {
    // The internal OA dataset with the partner key: zones there, and its sheet must carry the internal label.
    await page.click('#api-key-summary');
    await page.fill('#api-key-input', partnerKey);
    await Promise.all([page.waitForEvent('load'), page.click('#api-key-form button[type=submit]')]);
    await idle(page);
    await page.selectOption('#dataset', internal.id);
    await idle(page);
    await page.selectOption('#zones-within', 'E08000003');
    await page.fill('#zones-min', '300');
    await page.fill('#zones-max', '700');
    await page.fill('#zones-limit', '4');
    await page.click('#zones-build');
    await page.waitForFunction(() => window.__smallareaTest.zones.result || /Could not/.test(document.getElementById('zones-status').textContent), null, { timeout: 30000 });
    await idle(page);
    const result = await page.evaluate(() => window.__smallareaTest.zones.result);
    assert(result && result.zones.length > 0, `no zones: ${await page.textContent('#zones-status')}`);
    // The Internal MI label: once after the zones' links, none next to hidden links.
    const labels = await page.evaluate(() => [...document.querySelectorAll('.internal-note')].filter((n) => !n.hidden && n.offsetParent !== null)
      .map((n) => n.parentElement.id || n.parentElement.className));
    const groups = new Set(labels);
    assert(labels.length === groups.size, `a group of links carries the label twice: ${labels.join(', ')}`);
    assert(groups.has('zones-exports'), `no label by the zones' downloads (${labels.join(', ')})`);
    const hiddenLabelled = await page.evaluate(() => [...document.querySelectorAll('.internal-note')].filter((n) => !n.hidden &&
      [...n.parentElement.querySelectorAll(':scope > a[download]')].every((a) => a.hidden)).length);
    assert(hiddenLabelled === 0, `${hiddenLabelled} labels next to hidden links only`);
    await page.locator('#zones-list button[data-zone-sheet]').first().click();
    await page.locator('#sheet-title').waitFor({ timeout: 20000 });
    const z = result.zones[0];
    const info = await page.evaluate(() => ({ members: document.querySelector('#sheet [data-field="members"]').textContent,
      households: document.querySelector('#sheet [data-field="households"]').textContent,
      internal: (document.querySelector('#sheet [data-field="internal"]') || {}).textContent || '', img: Boolean(document.getElementById('sheet-map')) }));
    assert(z.members.every((m) => info.members.includes(m)), `members "${info.members}"`);
    assert(info.households === z.households.toLocaleString('en-GB'), `households ${info.households}, zone ${z.households}`);
    assert(info.internal === 'Internal MI: not for onward sharing.', `internal label "${info.internal}"`);
    assert(info.img, 'no map picture');
    await page.emulateMedia({ media: 'print' });
    await shot(page, 'outreach-sheet-zone-print.png', { fullPage: true });
    await page.emulateMedia({ media: 'screen' });
    const audit = await auditAccessibility(page, 'zone sheet');
    await page.keyboard.press('Escape');
    return `zone ${z.rank}: ${z.members.length} areas, ${z.households} households; labels by ${[...groups].join(', ')}; ${audit}`;
  });

  await check('a reload restores the zone builder\'s parameters and zones, and the target search, from the URL', async () => {
    await page.fill('#targets-min', '100');
    await page.fill('#targets-max', '160');
    await page.fill('#targets-limit', '4');
    await page.click('#targets-find');
    await page.waitForFunction(() => document.querySelectorAll('#targets-list li').length > 0, null, { timeout: 20000 });
    await idle(page);
    const before = await page.evaluate(() => ({ href: window.location.href, zones: window.__smallareaTest.zones.result.zones.map((z) => z.members.join(',')),
      targets: [...document.querySelectorAll('#targets-list li button[data-code]')].map((b) => b.dataset.code) }));
    const hash = new URLSearchParams(new URL(before.href).hash.slice(1));
    assert(hash.get('targets') === '100-160-4' && hash.get('targets_within') === 'E08000009', `targets= ${hash.get('targets')} within ${hash.get('targets_within')}`);
    assert(hash.get('zones') === '300-700-4-rook' && hash.get('zones_within') === 'E08000003', `zones= ${hash.get('zones')} within ${hash.get('zones_within')}`);
    await open(page, before.href);
    await page.waitForFunction(() => window.__smallareaTest.zones.result && document.querySelectorAll('#targets-list li').length > 0, null, { timeout: 30000 });
    await idle(page);
    const after = await page.evaluate(() => ({ zones: window.__smallareaTest.zones.result.zones.map((z) => z.members.join(',')),
      targets: [...document.querySelectorAll('#targets-list li button[data-code]')].map((b) => b.dataset.code),
      min: document.getElementById('zones-min').value, within: document.getElementById('zones-within').value, tmax: document.getElementById('targets-max').value,
      twithin: document.getElementById('targets-within').value }));
    assert(after.min === '300' && after.within === 'E08000003' && after.tmax === '160' && after.twithin === 'E08000009', `inputs ${JSON.stringify(after)}`);
    assert(JSON.stringify(after.zones) === JSON.stringify(before.zones), 'the zones differ after the reload');
    assert(JSON.stringify(after.targets) === JSON.stringify(before.targets), `targets ${after.targets.join(',')} vs ${before.targets.join(',')}`);
    await assertNoPublicDomain(page, 'outreach views');
    return `${after.zones.length} zones, ${after.targets.length} targets restored`;
  });

  await check('no page or console errors', async () => {
    assert(pageErrors.length === 0, pageErrors.slice(0, 5).join(' | '));
  });
  await context.close();
});
