#!/usr/bin/env node
// Browser test of the outreach tools on the web map (web/src/bespoke.js, targets.js, zones.js), run by
// tests/browser/harness.mjs with the same arguments as map.test.mjs: bespoke areas (select, save, share, files),
// the target finder (list, intervals, bands and ties, zoom), the zone builder, and a percentage-only measure that the
// server refuses on a bespoke area. The harness's idle() waits for the page's own idle, which includes the tools
// having started and every API request of theirs being answered.
//
// Usage:
//   node tests/browser/bespoke.test.mjs --server build/tools/smallarea --web web/dist \
//        --sample data/sample/manifest.json --out DIR [--keep] [--timeout SECONDS] [--chromium /usr/bin/chromium]
//
// Prints one line per check and finally `browser-bespoke: N passed, M failed`; exits 0 only if every check passed.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  DESKTOP, assert, assertNoPublicDomain, auditAccessibility, check, getJson, idle, number, runBrowserTest, skip,
} from './harness.mjs';

// ---------------------------------------------------------------------------------------------------------------
// Page helpers

// Two rendered, distinct areas with a value near the map centre (page coordinates to click).
async function twoAreas(page) {
  return page.evaluate(() => {
    const map = window.__smallareaTest.map;
    const canvas = map.getCanvas();
    const rect = canvas.getBoundingClientRect();
    const found = [];
    for (let fy = 0.45; fy < 0.85 && found.length < 2; fy += 0.03) {
      for (let fx = 0.35; fx < 0.75 && found.length < 2; fx += 0.03) {
        const x = Math.round(canvas.clientWidth * fx);
        const y = Math.round(canvas.clientHeight * fy);
        const [f] = map.queryRenderedFeatures([x, y], { layers: ['areas-fill'] });
        if (f && f.properties.code && typeof f.properties.value === 'number' && !found.some((a) => a.code === f.properties.code)) {
          found.push({ code: f.properties.code, pageX: rect.left + x, pageY: rect.top + y });
        }
      }
    }
    return found;
  });
}
runBrowserTest({ label: 'browser-bespoke', org: 'browser-bespoke', tmpPrefix: 'smallarea-bespoke-' },
  async ({ args, base, browser, partnerKey, shot }) => {
  const datasets = (await getJson(base, '/api/datasets', { key: true })).datasets;
  // Published, so no API key is needed in the page.
  const published = datasets.find((d) => d.classification === 'published' && d.level === 'lsoa');
  assert(published, 'the sample should hold a published LSOA dataset');

  const context = await browser.newContext(DESKTOP);
  const page = await context.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(`${base}/#dataset=${published.id}&map=12.5/53.475/-2.245`, { waitUntil: 'load' });
  await idle(page);

  let picked = [];
  let saved = null;
  await check('click selects an area and shift-click adds a second one', async () => {
    picked = await twoAreas(page);
    assert(picked.length === 2, `found ${picked.length} clickable areas`);
    await page.mouse.click(picked[0].pageX, picked[0].pageY);
    await page.waitForFunction(() => window.__smallareaTest.bespoke.codes.length === 1);
    await idle(page);
    // The map may have moved (the map module nudges a clicked area out from under the details card): look again.
    const second = (await twoAreas(page)).find((a) => a.code !== picked[0].code);
    assert(second, 'no second area to shift-click');
    picked[1] = second;
    await page.keyboard.down('Shift');
    await page.mouse.click(picked[1].pageX, picked[1].pageY);
    await page.keyboard.up('Shift');
    await page.waitForFunction(() => window.__smallareaTest.bespoke.codes.length === 2);
    const codes = await page.evaluate(() => window.__smallareaTest.bespoke.codes);
    assert(codes.includes(picked[0].code) && codes.includes(picked[1].code), `selection is ${codes.join(',')}`);
    assert(await page.locator('#bespoke-save').isEnabled(), 'save button not enabled');
    return codes.join(', ');
  });

  await check('"Save as bespoke area" saves it, puts bespoke=ID in the URL and shows totals', async () => {
    await page.fill('#bespoke-name', 'Browser test patch');
    await page.click('#bespoke-save');
    await page.waitForFunction(() => window.location.hash.includes('bespoke=') && window.__smallareaTest.bespoke.totals, null, { timeout: 20000 });
    await idle(page);
    const hash = await page.evaluate(() => window.location.hash);
    const id = new URLSearchParams(hash.slice(1)).get('bespoke');
    const meta = await getJson(base, `/api/bespoke/${id}`);
    assert(meta.member_count === 2, `saved ${meta.member_count} members`);
    const table = await getJson(base, `/api/table?dataset=${published.id}&level=bespoke&ids=${id}`);
    const shownValue = await page.textContent('#bespoke-value');
    assert(typeof table.rows[0].value === 'number', `API value is ${table.rows[0].value}`);
    assert(shownValue.startsWith(String(table.rows[0].value)), `panel shows "${shownValue}", API says ${table.rows[0].value}`);
    assert(number(await page.textContent('#bespoke-households')) === meta.households, 'households differ');
    saved = { id, url: page.url(), value: shownValue, households: meta.households };
    await shot(page, 'bespoke-saved.png');
    return `id ${id}, ${shownValue}`;
  });

  await check('the saved area offers its CSV, XLSX, GeoJSON and GeoPackage, the files /api/export/bespoke gives', async () => {
    assert(saved, 'nothing saved');
    const links = await page.$$eval('#bespoke-exports a', (as) => as.map((a) => ({ format: a.dataset.format, href: a.href })));
    assert(links.map((l) => l.format).join(',') === 'csv,xlsx,geojson,gpkg', `links: ${links.map((l) => l.format).join(',')}`);
    const csvLink = links.find((l) => l.format === 'csv');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#bespoke-exports a[data-format=csv]')]);
    const file = path.join(args.out, 'bespoke-export.csv');
    await download.saveAs(file);
    const text = readFileSync(file, 'utf8');
    assert(text.includes(saved.id), 'the downloaded CSV does not name the bespoke area');
    assert(new URL(csvLink.href).searchParams.get('dataset') === published.id, 'the CSV link is not for the mapped dataset');
    return `${links.length} links; CSV ${text.length} bytes`;
  });

  await check('the shared URL reopens with the same outline, selection and totals', async () => {
    assert(saved, 'nothing saved');
    const other = await context.newPage();
    other.on('pageerror', (e) => pageErrors.push(e.message));
    await other.goto(saved.url, { waitUntil: 'load' });
    await idle(other);
    await other.waitForFunction(() => window.__smallareaTest.bespoke.totals, null, { timeout: 20000 }).catch(async () => {
      throw new Error(`no totals for ${saved.url}: "${await other.textContent('#bespoke-status')}"`);
    });
    await idle(other);
    const info = await other.evaluate(() => {
      const map = window.__smallareaTest.map;
      const outline = window.__smallareaTest.bespoke.outline;
      return { codes: window.__smallareaTest.bespoke.codes, id: window.__smallareaTest.bespoke.id, outlineType: outline && outline.type,
        outlined: map.queryRenderedFeatures({ layers: ['bespoke-outline'] }).length };
    });
    assert(info.id === saved.id, `opened ${info.id}`);
    assert(info.codes.length === 2, `selection has ${info.codes.length}`);
    assert(info.outlineType === 'MultiPolygon', `outline is ${info.outlineType}`);
    assert(info.outlined > 0, 'outline not rendered');
    assert((await other.textContent('#bespoke-value')) === saved.value, 'totals differ after reload');
    assert(number(await other.textContent('#bespoke-households')) === saved.households, 'households differ after reload');
    await shot(other, 'bespoke-reopened.png');
    await other.close();
    return `${info.outlined} outline features rendered`;
  });

  // The sample's published dataset is LSOA-only: the default 100-150 band lists its Output Areas as patches.
  await check('the target finder lists, highlights and zooms to areas, with a CSV link', async () => {
    await page.fill('#targets-min', '100');
    await page.fill('#targets-max', '150');
    await page.fill('#targets-limit', '10');
    await page.click('#targets-find');
    await page.waitForFunction(() => document.querySelectorAll('#targets-list li').length > 0, null, { timeout: 20000 });
    await idle(page);
    const items = await page.locator('#targets-list li').count();
    const status = await page.textContent('#targets-status');
    assert(/Output Areas to walk/.test(status) && /never apportioned/.test(status), `no patch note in "${status}"`);
    const texts = await page.locator('#targets-list li').allTextContents();
    for (const t of texts) {
      assert(/figure for the whole LSOA .+, not apportioned/.test(t), `"${t}" does not say whose figure it is`);
      assert(/grid ref [A-HJ-Z]{2} \d{4} \d{4}/.test(t), `"${t}" has no grid reference`);
    }
    const csv = await page.getAttribute('#targets-csv', 'href');
    const response = await fetch(csv);
    const text = await response.text();
    assert(response.ok && /^rank,(.*,)?code,name/m.test(text), 'CSV link does not give the list');
    const api = await getJson(base, `/api/targets?dataset=${published.id}&min_households=100&max_households=150&limit=10`);
    assert(api.rows.length === items, `list has ${items}, API ${api.rows.length}`);
    const before = await page.evaluate(() => window.__smallareaTest.map.getZoom());
    await page.locator('#targets-list button').first().click();
    await idle(page);
    const after = await page.evaluate(() => {
      const map = window.__smallareaTest.map;
      return { zoom: map.getZoom(), highlighted: map.queryRenderedFeatures({ layers: ['targets-fill'] }).length };
    });
    assert(after.highlighted > 0, 'targets not highlighted');
    assert(Math.abs(after.zoom - before) > 0.01, 'did not zoom to the area');
    await shot(page, 'bespoke-targets.png');
    return `${items} areas; zoom ${before.toFixed(1)} -> ${after.zoom.toFixed(1)}`;
  });

  await check('each target shows its interval: value ± the rounding bound', async () => {
    const api = await getJson(base, `/api/targets?dataset=${published.id}&min_households=100&max_households=150&limit=10`);
    const figures = await page.locator('#targets-list li .target-figures').allTextContents();
    api.rows.forEach((r, i) => {
      if (typeof r.uncertainty === 'number' && r.uncertainty > 0) {
        assert(figures[i].includes(`${r.value.toLocaleString('en-GB')} ± ${r.uncertainty.toLocaleString('en-GB')}`), `row ${i + 1} "${figures[i]}" lacks ${r.value} ± ${r.uncertainty}`);
      }
      if (typeof r.rate_low === 'number') {
        assert(figures[i].includes(r.rate_low.toFixed(2)) && figures[i].includes(r.rate_high.toFixed(2)), `row ${i + 1} "${figures[i]}" lacks the rate range ${r.rate_low}–${r.rate_high}`);
      }
    });
    return figures[0];
  });

  const targets = await getJson(base, `/api/targets?dataset=${published.id}&min_households=100&max_households=150&limit=10`);
  const hasTargetBands = typeof targets.bands === 'number' && targets.rows.every((r) => typeof r.band === 'number');
  const tiesName = 'ties within rounding are marked (shared band numbers, "tied within rounding") and the list says how many distinct bands it holds';
  if (!hasTargetBands) {
    skip(tiesName, 'hasTargetBands');
  } else {
    await check(tiesName, async () => {
      const bands = (await page.textContent('#targets-bands')).trim();
      assert(bands.includes(`${targets.bands} distinct band`), `"${bands}" lacks "${targets.bands} distinct band"`);
      if (targets.ties_note) assert(bands.toLowerCase().includes(targets.ties_note.slice(1, 40).toLowerCase()), `"${bands}" lacks the ties note "${targets.ties_note}"`);
      const items = await page.locator('#targets-list li').evaluateAll((lis) => lis.map((li) => ({ value: li.value, text: li.textContent })));
      const sizes = new Map();
      for (const r of targets.rows) sizes.set(r.band, (sizes.get(r.band) || 0) + 1);
      targets.rows.forEach((r, i) => {
        assert(items[i].value === r.band, `row ${i + 1} is numbered ${items[i].value}, its band is ${r.band}`);
        const tied = sizes.get(r.band) > 1;
        assert(tied === items[i].text.includes('tied within rounding'), `row ${i + 1} (band ${r.band}) tie mark is ${!tied}`);
      });
      const tiedRows = targets.rows.filter((r) => sizes.get(r.band) > 1).length;
      assert(targets.bands === sizes.size, `bands ${targets.bands}, distinct band numbers ${sizes.size}`);
      await shot(page.locator('#targets'), 'bespoke-targets-ties.png');
      return `${targets.bands} bands, ${tiedRows} tied rows`;
    });
  }

  await check('the zone builder builds, lists, outlines and offers the zones POST /api/zones gives', async () => {
    await page.selectOption('#zones-within', 'E08000003');
    await page.fill('#zones-min', '600');
    await page.fill('#zones-max', '1400');
    await page.fill('#zones-limit', '8');
    await page.click('#zones-build');
    await page.waitForFunction(() => window.__smallareaTest.zones.result || /Could not/.test(document.getElementById('zones-status').textContent), null, { timeout: 30000 });
    const result = await page.evaluate(() => window.__smallareaTest.zones.result);
    assert(result, `no zones: ${await page.textContent('#zones-status')}`);
    assert(result.zones.length > 0 && result.zones.length <= 8, `${result.zones.length} zones`);
    for (const z of result.zones) assert(z.households >= 600 && z.households <= 1400, `zone ${z.rank} has ${z.households} households`);
    const items = await page.locator('#zones-list li').count();
    assert(items === result.zones.length, `${items} listed, ${result.zones.length} built`);
    const filter = await page.evaluate(() => JSON.stringify(window.__smallareaTest.map.getFilter('zones-line')));
    assert(filter.includes(result.zones[0].members[0]), 'the zone members are not outlined on the map');
    const formats = await page.$$eval('#zones-exports a', (as) => as.map((a) => a.dataset.format).join(','));
    assert(formats === 'csv,xlsx,geojson,gpkg', `export links: ${formats}`);
    await shot(page, 'bespoke-zones.png');
    return `${result.zones.length} zones, ${result.unplaced.length} unplaced`;
  });

  await check('accessibility: the target list and bespoke card have no serious or critical WCAG 2.2 AA violation (axe-core)', async () => {
    return auditAccessibility(page, 'targets and bespoke card');
  });

  await check('no "public domain" in the page (labels come from the dataset licence)', async () => {
    await assertNoPublicDomain(page, 'bespoke and targets');
  });

  // A percentage-only measure on a bespoke area: the server refuses it (422 PercentageOnly) and the card says why.
  const internal = datasets.find((d) => d.classification === 'internal');
  const percentMeasure = internal && internal.measures.find((m) => m.kind === 'percent_only');
  const created = await fetch(`${base}/api/bespoke`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${partnerKey}` },
    body: JSON.stringify({ name: 'Percent test patch', level: internal.level,
      codes: (await getJson(base, `/api/table?dataset=${internal.id}&level=${internal.level}`, { key: true })).rows.slice(0, 3).map((r) => r.code) }),
  }).then((r) => r.json());
  const probe = await fetch(`${base}/api/table?dataset=${internal.id}&measure=${percentMeasure.id}&level=bespoke&ids=${created.id}`,
    { headers: { Authorization: `Bearer ${partnerKey}` } });
  const refusal = probe.status === 422 ? await probe.json() : null;
  const refusesPercentOnBespoke = Boolean(refusal && refusal.code === 'PercentageOnly');
  await check('a bespoke link without a map view zooms to the area; Clear forgets it for the next view change', async () => {
    assert(saved, 'nothing saved');
    const url = new URL(saved.url);
    const params = new URLSearchParams(url.hash.replace(/^#/, ''));
    params.delete('map');
    url.hash = params.toString();
    const other = await context.newPage();
    other.on('pageerror', (e) => pageErrors.push(e.message));
    await other.goto(url.toString(), { waitUntil: 'load' });
    await idle(other);
    await other.waitForFunction(() => window.__smallareaTest.bespoke.totals, null, { timeout: 20000 });
    await idle(other);
    const view = await other.evaluate(() => {
      const map = window.__smallareaTest.map;
      const b = map.getBounds();
      const box = window.__smallareaTest.bespoke.meta.bbox;
      return { zoom: map.getZoom(), contains: b.getWest() <= box[0] && b.getSouth() <= box[1] && b.getEast() >= box[2] && b.getNorth() >= box[3] };
    });
    assert(view.contains && view.zoom > 12, `the map did not fit the area (zoom ${view.zoom.toFixed(1)}, contains ${view.contains})`);
    await other.click('#bespoke-clear');
    const periods = await other.locator('#period option').evaluateAll((os) => os.map((o) => o.value));
    const current = await other.inputValue('#period');
    const next = periods.find((v) => v && v !== current);
    if (next) {
      await other.selectOption('#period', next);
      await idle(other);
    }
    assert(await other.locator('#bespoke-totals').isHidden(), 'the cleared area\'s totals came back after a view change');
    await other.close();
    return `zoom ${view.zoom.toFixed(1)}${next ? `; period ${current} -> ${next}, totals stay hidden` : ''}`;
  });
  const refusalName = 'a percentage-only measure on a bespoke area shows the server\'s PercentageOnly message, not a broken value';
  await check(refusesPercentOnBespoke ? refusalName : 'a percentage-only measure on a bespoke area shows a percentage or a reason, never a count', async () => {
    const keyed = await browser.newContext(DESKTOP);
    await keyed.addInitScript((key) => window.sessionStorage.setItem('smallarea.key', key), partnerKey);
    const p = await keyed.newPage();
    const errors = [];
    p.on('pageerror', (e) => errors.push(e.message));
    await p.goto(`${base}/#dataset=${internal.id}&measure=${percentMeasure.id}&bespoke=${created.id}`, { waitUntil: 'load' });
    await idle(p);
    await p.waitForFunction(() => window.__smallareaTest.bespoke.totals, null, { timeout: 20000 });
    await idle(p);
    const card = (await p.textContent('#bespoke-totals')).replace(/\s+/g, ' ');
    let detail;
    if (refusesPercentOnBespoke) {
      const shown = (await p.textContent('#bespoke-refused')).trim();
      assert(shown.includes(refusal.message), `card says "${shown}", server message "${refusal.message}"`);
      assert((await p.locator('#bespoke-value').count()) === 0, 'a value is shown for a refused measure');
      detail = shown;
    } else {
      skip(refusalName, 'refusesPercentOnBespoke');
      const value = (await p.textContent('#bespoke-value')).trim();
      assert(/%/.test(value), `value "${value}" is not a percentage`);
      detail = `old server: "${value}"`;
    }
    assert(!/NaN|undefined|\[object/.test(card), `card shows a broken value: "${card}"`);
    // Back to a count measure: the card follows the picker and shows a value again.
    const countMeasure = internal.measures.find((m) => m.kind === 'count');
    await p.selectOption('#measure', countMeasure.id);
    await p.waitForFunction(() => window.__smallareaTest.bespoke.totals && window.__smallareaTest.bespoke.totals.row && window.__smallareaTest.state.measure !== null, null, { timeout: 20000 });
    await idle(p);
    assert((await p.locator('#bespoke-value').count()) === 1, 'no value after switching to a count measure');
    await p.selectOption('#measure', percentMeasure.id);
    await idle(p);
    await shot(p.locator('#bespoke'), 'bespoke-percent-only.png');
    await assertNoPublicDomain(p, 'internal bespoke');
    assert(errors.length === 0, errors.join(' | '));
    await keyed.close();
    return detail;
  });

  await check('no page errors', async () => {
    assert(pageErrors.length === 0, pageErrors.join(' | '));
  });
  });
