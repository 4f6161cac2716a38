#!/usr/bin/env node
// Browser test of place context on the map (#14; tests/browser/harness.mjs runs it: sample store, real server on
// 127.0.0.1, Debian's chromium): the place search combobox (WAI-ARIA 1.2: role, aria-expanded, aria-controls,
// aria-activedescendant, arrow keys, Enter, Escape) flies to a Trafford postcode chosen by keyboard and marks it;
// a ward chosen by name is outlined and, on a ward map, opens its panel; offline DOM labels at zoom 15 are the
// server's /api/labels postcodes for the box, and ward names at zoom 12; the ward outlines overlay toggles. axe-core
// audits the open listbox and the labelled map; screenshots of each.
//
// Usage:
//   node tests/browser/places.test.mjs --server build/tools/smallarea --web web/dist \
//        --sample data/sample/manifest.json --out DIR [--keep] [--timeout SECONDS] [--chromium /usr/bin/chromium]

import { DESKTOP, assert, auditAccessibility, check, getJson, idle, runBrowserTest } from './harness.mjs';

const inBox = ([lon, lat], [w, s, e, n], pad = 0) => lon >= w - pad && lon <= e + pad && lat >= s - pad && lat <= n + pad;

// Waits for the search's debounced answer: the listbox open with at least one option.
async function waitForOptions(page) {
  await page.waitForFunction(() => {
    const list = document.getElementById('place-results');
    return !list.hidden && list.children.length > 0;
  }, null, { timeout: 10000 });
}

runBrowserTest({ label: 'browser-places', org: 'browser-places', tmpPrefix: 'smallarea-places-', resultFile: 'places-result.txt' },
  async ({ base, browser, shot }) => {
  const datasets = (await getJson(base, '/api/datasets')).datasets;
  const published = datasets.find((d) => d.classification === 'published' && d.level === 'lsoa');
  assert(published, 'the sample should hold a published LSOA dataset');
  const tileCatalog = await getJson(base, '/tiles/catalog');
  const hasWards = (tileCatalog.layers || []).some((l) => l.level === 'ward');

  const context = await browser.newContext(DESKTOP);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) errors.push(m.text()); });
  await page.goto(`${base}/#dataset=${published.id}&map=11/53.44/-2.3`, { waitUntil: 'load' });
  await idle(page);

  const query = 'M33 7';
  const expected = (await getJson(base, `/api/search?q=${encodeURIComponent(query)}&limit=10`)).results;

  await check('the search box is a WAI-ARIA 1.2 combobox: typing a Trafford postcode district lists the server\'s places', async () => {
    assert(expected.length >= 2 && expected.every((r) => r.kind === 'postcode' && r.name.startsWith('M33 7')),
      `/api/search?q=${query} gave ${JSON.stringify(expected.map((r) => r.name))}`);
    const input = page.locator('#place-search');
    const before = await input.evaluate((el) => ({ role: el.getAttribute('role'), expanded: el.getAttribute('aria-expanded'),
      controls: el.getAttribute('aria-controls'), label: el.labels && el.labels[0] && el.labels[0].textContent }));
    assert(before.role === 'combobox' && before.expanded === 'false' && before.controls === 'place-results' && before.label,
      `before typing: ${JSON.stringify(before)}`);
    await input.focus();
    await page.keyboard.type(query);
    await waitForOptions(page);
    const after = await page.evaluate(() => {
      const el = document.getElementById('place-search');
      const list = document.getElementById(el.getAttribute('aria-controls'));
      return { expanded: el.getAttribute('aria-expanded'), role: list.getAttribute('role'),
        options: [...list.children].map((o) => ({ role: o.getAttribute('role'), name: o.querySelector('.place-name').textContent })) };
    });
    assert(after.expanded === 'true' && after.role === 'listbox', `after typing: ${JSON.stringify(after)}`);
    assert(after.options.every((o) => o.role === 'option'), 'an item of the listbox is not an option');
    const names = after.options.map((o) => o.name);
    assert(JSON.stringify(names) === JSON.stringify(expected.map((r) => r.name)), `listed ${names} but the server says ${expected.map((r) => r.name)}`);
    return `${names.length} options: ${names.slice(0, 3).join(', ')}...`;
  });

  await check('ArrowDown moves aria-activedescendant along the options; Escape closes the listbox and keeps the text', async () => {
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    const s = await page.evaluate(() => {
      const el = document.getElementById('place-search');
      const id = el.getAttribute('aria-activedescendant');
      const opt = id && document.getElementById(id);
      return { id, selected: opt && opt.getAttribute('aria-selected'), name: opt && opt.querySelector('.place-name').textContent,
        others: [...document.querySelectorAll('#place-results [aria-selected="true"]')].length };
    });
    assert(s.id && s.selected === 'true' && s.others === 1, `active option ${JSON.stringify(s)}`);
    assert(s.name === expected[1].name, `second option active should be ${expected[1].name}, is ${s.name}`);
    await page.keyboard.press('ArrowUp');
    const up = await page.evaluate(() => document.getElementById(document.getElementById('place-search').getAttribute('aria-activedescendant')).querySelector('.place-name').textContent);
    assert(up === expected[0].name, `ArrowUp went to ${up}`);
    await shot(page, 'places-search-listbox-1280x800.png');
    await page.keyboard.press('Escape');
    const closed = await page.evaluate(() => ({ expanded: document.getElementById('place-search').getAttribute('aria-expanded'),
      hidden: document.getElementById('place-results').hidden, value: document.getElementById('place-search').value,
      active: document.getElementById('place-search').getAttribute('aria-activedescendant') }));
    assert(closed.expanded === 'false' && closed.hidden && closed.value === query && !closed.active, `after Escape ${JSON.stringify(closed)}`);
    return `active ${s.name}, then ${up}; Escape closed`;
  });

  await check('axe-core: no serious or critical WCAG 2.2 AA violation with the listbox open', async () => {
    await page.keyboard.press('ArrowDown'); // reopens with the first option active
    await page.waitForFunction(() => !document.getElementById('place-results').hidden);
    return auditAccessibility(page, 'place search listbox open');
  });

  let chosen = null;
  await check('Enter on a postcode flies the map to it (centre inside the result\'s box) and marks its point', async () => {
    await page.keyboard.press('ArrowDown'); // the second option
    await page.keyboard.press('Enter');
    await idle(page);
    const s = await page.evaluate(() => {
      const t = window.__smallareaTest;
      const c = t.map.getCenter();
      const p = t.places.chosen;
      const pt = t.map.project(p.point);
      const marks = t.map.queryRenderedFeatures([[pt.x - 4, pt.y - 4], [pt.x + 4, pt.y + 4]], { layers: ['place-point'] });
      return { centre: [c.lng, c.lat], zoom: t.map.getZoom(), chosen: p, marks: marks.length,
        value: document.getElementById('place-search').value, expanded: document.getElementById('place-search').getAttribute('aria-expanded') };
    });
    chosen = s.chosen;
    assert(chosen.name === expected[1].name, `chose ${chosen.name}, expected ${expected[1].name}`);
    assert(s.value === chosen.name && s.expanded === 'false', `box says "${s.value}", expanded ${s.expanded}`);
    // A postcode's box is its point: 1e-5 degrees (about a metre) allows for the float of the map's centre.
    assert(inBox(s.centre, chosen.bbox, 1e-5), `centre ${s.centre} outside ${chosen.bbox}`);
    assert(s.zoom >= 15, `zoom ${s.zoom}: postcode labels need 15`);
    assert(s.marks >= 1, 'no highlight drawn at the postcode');
    await shot(page, 'places-postcode-chosen-1280x800.png');
    return `${chosen.name} at ${s.centre.map((v) => v.toFixed(5))}, zoom ${s.zoom.toFixed(1)}`;
  });

  await check('offline labels at zoom 15 over Trafford: the postcodes drawn are those /api/labels lists for the box, none overlapping', async () => {
    const s = await page.evaluate(() => {
      const t = window.__smallareaTest;
      const mapRect = t.map.getContainer().getBoundingClientRect();
      const shown = [...document.querySelectorAll('#map-labels .map-label')].filter((el) => !el.hidden).map((el) => {
        const r = el.getBoundingClientRect();
        return { kind: el.dataset.kind, code: el.dataset.code, chosen: el.dataset.chosen === 'true', text: el.textContent,
          x: r.left - mapRect.left, y: r.top - mapRect.top, w: r.width, h: r.height };
      });
      const controls = [...document.querySelectorAll('.maplibregl-ctrl, .map-table-button')].map((el) => el.getBoundingClientRect())
        .filter((r) => r.width > 0).map((r) => ({ text: 'a map control', x: r.left - mapRect.left, y: r.top - mapRect.top, w: r.width, h: r.height }));
      const b = t.map.getBounds();
      return { shown, controls, box: t.places.labelBox, kinds: t.places.labelKinds, zoom: t.map.getZoom(), view: [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()],
        width: mapRect.width, height: mapRect.height };
    });
    const viewBox = s.view.map((v) => Number(v.toFixed(6)));
    assert(JSON.stringify(s.box) === JSON.stringify(viewBox), `labels asked for ${s.box}, the view is ${viewBox}`);
    const answer = await getJson(base, `/api/labels?bbox=${s.box.join(',')}${s.kinds ? `&kinds=${s.kinds}` : ''}`);
    const apiPostcodes = new Map(answer.labels.filter((l) => l.kind === 'postcode').map((l) => [l.code, l]));
    const shownPostcodes = s.shown.filter((l) => l.kind === 'postcode');
    assert(apiPostcodes.size > 0, `/api/labels lists no postcode for ${s.box}`);
    assert(shownPostcodes.length >= 10, `only ${shownPostcodes.length} postcode labels drawn`);
    for (const l of shownPostcodes) {
      const api = apiPostcodes.get(l.code);
      assert(api && api.name === l.text, `label ${l.code} "${l.text}" is not /api/labels's`);
      // Drawn where its point is: the label's centre projects from the server's point (within 2 px).
      const cx = l.x + l.w / 2;
      const cy = l.y + l.h / 2;
      const p = await page.evaluate((pt) => window.__smallareaTest.map.project(pt), api.point);
      // The chosen postcode's label sits just above its marker; the others are centred on their point.
      const wantY = l.chosen ? p.y - 11 - l.h / 2 : p.y;
      assert(Math.abs(p.x - cx) <= 2 && Math.abs(wantY - cy) <= 2, `${l.code} drawn at ${cx},${cy}, its point is at ${p.x},${p.y}`);
      assert(l.x >= 0 && l.y >= 0 && l.x + l.w <= s.width + 0.5 && l.y + l.h <= s.height + 0.5, `${l.code} drawn outside the map`);
    }
    const overlaps = [];
    for (let i = 0; i < s.shown.length; i += 1) {
      for (let j = i + 1; j < s.shown.length; j += 1) {
        const a = s.shown[i];
        const b = s.shown[j];
        if (a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h) overlaps.push(`${a.text}/${b.text}`);
      }
    }
    assert(overlaps.length === 0, `overlapping labels: ${overlaps.slice(0, 5).join(', ')}`);
    const underControls = s.shown.filter((a) => s.controls.some((b) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h));
    assert(underControls.length === 0, `labels under the map's controls: ${underControls.slice(0, 5).map((l) => l.text)}`);
    const chosenLabel = s.shown.filter((l) => l.chosen);
    assert(chosenLabel.length === 1 && chosenLabel[0].code === chosen.code, `the chosen postcode's label: ${JSON.stringify(chosenLabel)}`);
    const wards = s.shown.filter((l) => l.kind === 'ward').map((l) => l.text);
    await shot(page, 'places-labels-zoom15-1280x800.png');
    return `${shownPostcodes.length} of ${apiPostcodes.size} listed postcodes drawn (the rest thinned), wards ${wards.join(', ') || 'none'}${answer.truncated && answer.truncated.length ? `; server truncated ${answer.truncated}` : ''}`;
  });

  await check('axe-core: no serious or critical WCAG 2.2 AA violation with the place chosen and its labels drawn', async () =>
    auditAccessibility(page, 'postcode chosen, labels at zoom 15'));

  await check('at zoom 12 the labels are ward names from /api/labels (no postcodes), at zoom 10 district names', async () => {
    await page.evaluate(() => window.__smallareaTest.map.jumpTo({ center: [-2.33, 53.42], zoom: 12.5 }));
    await idle(page);
    const at12 = await page.evaluate(() => ({ kinds: [...new Set([...document.querySelectorAll('#map-labels .map-label')].filter((el) => !el.hidden).map((el) => el.dataset.kind))],
      names: [...document.querySelectorAll('#map-labels .map-label-ward')].filter((el) => !el.hidden).map((el) => el.textContent), box: window.__smallareaTest.places.labelBox }));
    const api12 = await getJson(base, `/api/labels?bbox=${at12.box.join(',')}&kinds=ward`);
    const apiWards = new Set(api12.labels.map((l) => l.name));
    assert(JSON.stringify(at12.kinds) === '["ward"]', `kinds drawn at zoom 12.5: ${at12.kinds}`);
    assert(at12.names.length > 0 && at12.names.every((n) => apiWards.has(n)), `ward labels ${at12.names} vs /api/labels ${[...apiWards]}`);
    await page.evaluate(() => window.__smallareaTest.map.jumpTo({ center: [-2.3, 53.44], zoom: 10 }));
    await idle(page);
    const at10 = await page.evaluate(() => [...document.querySelectorAll('#map-labels .map-label')].filter((el) => !el.hidden).map((el) => `${el.dataset.kind}:${el.textContent}`));
    assert(at10.length > 0 && at10.every((l) => l.startsWith('lad:')), `labels at zoom 10: ${at10}`);
    assert(at10.includes('lad:Trafford') && at10.includes('lad:Manchester'), `district labels ${at10}`);
    return `zoom 12.5: ${at12.names.join(', ')}; zoom 10: ${at10.join(', ')}`;
  });

  if (hasWards) {
    await check('the Wards overlay toggles /tiles/ward outlines over the map', async () => {
      const toggle = page.locator('#ward-overlay');
      assert(await toggle.isVisible(), 'no Wards toggle although /tiles/catalog lists ward');
      const count = () => page.evaluate(() => {
        const map = window.__smallareaTest.map;
        return { visibility: map.getLayoutProperty('ward-outline', 'visibility'), rendered: map.queryRenderedFeatures({ layers: ['ward-outline'] }).length };
      });
      const off = await count();
      assert(off.visibility === 'none' && off.rendered === 0, `before the toggle ${JSON.stringify(off)}`);
      await toggle.focus();
      await page.keyboard.press('Space');
      await idle(page);
      const on = await count();
      const codes = await page.evaluate(() => [...new Set(window.__smallareaTest.map.queryRenderedFeatures({ layers: ['ward-outline'] }).map((f) => f.properties.code))]);
      assert(on.visibility === 'visible' && on.rendered > 0, `after the toggle ${JSON.stringify(on)}`);
      assert(codes.length >= 20 && codes.every((c) => /^E05/.test(c)), `ward codes drawn ${codes.length}: ${codes.slice(0, 5)}`);
      await shot(page, 'places-ward-overlay-1280x800.png');
      const hash = await page.evaluate(() => window.location.hash);
      assert(hash.includes('wards=1'), `the overlay is not in the URL: ${hash}`);
      // A shared link with wards=1 opens with the overlay on.
      const shared = await context.newPage();
      await shared.goto(`${base}/${hash}`, { waitUntil: 'load' });
      await idle(shared);
      const sharedOn = await shared.evaluate(() => ({ checked: document.getElementById('ward-overlay').checked,
        visibility: window.__smallareaTest.map.getLayoutProperty('ward-outline', 'visibility') }));
      await shared.close();
      assert(sharedOn.checked && sharedOn.visibility === 'visible', `shared link ${JSON.stringify(sharedOn)}`);
      await page.keyboard.press('Space');
      await idle(page);
      const again = await count();
      assert(again.visibility === 'none' && again.rendered === 0, `after toggling off ${JSON.stringify(again)}`);
      assert(!(await page.evaluate(() => window.location.hash)).includes('wards=1'), 'wards=1 stays in the URL after toggling off');
      return `${codes.length} wards outlined, then hidden`;
    });

    await check('a ward chosen by name is outlined from its tiles; on a ward map it opens the ward\'s panel', async () => {
      const wardResults = (await getJson(base, '/api/search?q=Sale%20Central&limit=10')).results;
      const ward = wardResults.find((r) => r.kind === 'area' && r.level === 'ward');
      assert(ward, `/api/search?q=Sale Central has no ward: ${JSON.stringify(wardResults)}`);
      const hasWardTables = published.level === 'lsoa' && (await fetch(`${base}/api/table?dataset=${published.id}&measure=${published.measures[0].id}&period=${published.periods[0]}&level=ward`)).ok;
      if (hasWardTables) {
        await page.goto('about:blank');
        await page.goto(`${base}/#dataset=${published.id}&level=ward&map=10/53.44/-2.3`, { waitUntil: 'load' });
        await idle(page);
      }
      const input = page.locator('#place-search');
      await input.fill('');
      await input.focus();
      await page.keyboard.type('Sale Central');
      await waitForOptions(page);
      const names = await page.evaluate(() => [...document.querySelectorAll('#place-results .place-name')].map((o) => o.textContent));
      const kinds = await page.evaluate(() => [...document.querySelectorAll('#place-results .place-option')].map((o) => o.querySelector('.place-kind').textContent));
      const wardOptions = kinds.map((k, i) => (names[i] === ward.name && k.startsWith('Ward') ? i : -1)).filter((i) => i >= 0);
      // The ward the postcode file also names (kind "ward", same code) is listed once, as the area.
      assert(wardOptions.length === 1, `ward ${ward.name} listed ${wardOptions.length} times: ${names.map((n, i) => `${n} (${kinds[i]})`)}`);
      assert(kinds[wardOptions[0]] === `Ward ${ward.code}`, `the ward option says "${kinds[wardOptions[0]]}"`);
      const index = wardOptions[0];
      for (let i = 0; i <= index; i += 1) await page.keyboard.press('ArrowDown');
      await page.keyboard.press('Enter');
      await idle(page);
      const s = await page.evaluate(() => {
        const t = window.__smallareaTest;
        const c = t.map.getCenter();
        return { centre: [c.lng, c.lat], outlined: [...new Set(t.map.queryRenderedFeatures({ layers: ['place-area-line'] }).map((f) => f.properties.code))],
          area: t.state.area, level: t.state.level, panel: !document.getElementById('details').hidden, title: document.getElementById('details-title').textContent };
      });
      assert(inBox(s.centre, ward.bbox), `centre ${s.centre} outside ${ward.bbox}`);
      assert(JSON.stringify(s.outlined) === JSON.stringify([ward.code]), `outlined ${s.outlined}, expected ${ward.code}`);
      if (s.level === 'ward') assert(s.area === ward.code && s.panel, `on a ward map the panel should open for ${ward.code}: ${JSON.stringify(s)}`);
      else assert(s.area !== ward.code, 'a ward selected on a map of another level');
      await shot(page, 'places-ward-chosen-1280x800.png');
      await auditAccessibility(page, 'ward chosen');
      return `${ward.name} ${ward.code} outlined; map level ${s.level}${s.level === 'ward' ? `, panel "${s.title}"` : ''}`;
    });
  }

  if (hasWards && (published.vintages || []).includes(2021)) {
    await check('a ward map of 2011 data: Geography offers wards, the map moves to 2021 boundaries through the crosswalk, '
      + 'every ward coloured, the Boundaries picker and the URL say 2021', async () => {
      await page.evaluate(() => window.__smallareaTest.map.jumpTo({ center: [-2.28, 53.45], zoom: 10.5 }));
      const levels = await page.evaluate(() => [...document.getElementById('level').options].map((o) => o.value));
      assert(levels.includes('ward'), `Geography options ${levels}`);
      await page.selectOption('#level', 'ward');
      await idle(page);
      const s = await page.evaluate(() => {
        const t = window.__smallareaTest;
        const sources = Object.values(t.map.getStyle().sources).flatMap((src) => src.tiles || []);
        const coloured = new Set(t.map.queryRenderedFeatures().filter((f) => f.sourceLayer === 'ward' && typeof f.properties.rate === 'number')
          .map((f) => f.properties.code));
        return { level: t.state.level, vintage: t.state.vintage, hash: window.location.hash, sources, coloured: coloured.size,
          breaks: Boolean(t.state.breaks), error: t.state.error,
          boundaries: [...document.getElementById('vintage').options].filter((o) => o.selected).map((o) => o.textContent) };
      });
      assert(s.level === 'ward' && s.vintage === 2021, `state ${JSON.stringify(s)}`);
      assert(s.hash.includes('vintage=2021'), `hash ${s.hash}`);
      assert(s.sources.some((u) => u.includes('/tiles/ward/') && u.includes('vintage=2021')), `sources ${s.sources}`);
      assert(s.coloured >= 30, `${s.coloured} wards coloured`);
      assert(s.breaks && !s.error, `legend ${JSON.stringify(s)}`);
      assert(s.boundaries.length === 1 && s.boundaries[0].startsWith('2021'), `Boundaries picker ${s.boundaries}`);
      const table = await getJson(base, `/api/table?dataset=${published.id}&level=ward&vintage=2021`);
      assert(table.rows.length === 53 && table.best_fit, `ward table rows ${table.rows.length}`);
      await shot(page, 'places-ward-map-2021-1280x800.png');
      await auditAccessibility(page, 'ward map on 2021 boundaries');

      // LSOAs: the dataset's own 2011 boundaries by default, 2021 on request, and back.
      await page.selectOption('#level', 'lsoa');
      await idle(page);
      const own = await page.evaluate(() => window.__smallareaTest.state.vintage);
      assert(own === null, `LSOAs after wards: vintage ${own} (the wanted 2021 stays only where chosen)`);
      await page.selectOption('#vintage', '2021');
      await idle(page);
      const moved = await page.evaluate(() => {
        const t = window.__smallareaTest;
        return { vintage: t.state.vintage, sources: Object.values(t.map.getStyle().sources).flatMap((src) => src.tiles || []),
          drawn: [...new Set(t.map.queryRenderedFeatures().filter((f) => f.sourceLayer === 'lsoa').map((f) => f.properties.code))] };
      });
      assert(moved.vintage === 2021 && moved.sources.some((u) => u.includes('/tiles/lsoa/') && u.includes('vintage=2021')), JSON.stringify(moved.sources));
      assert(moved.drawn.some((c) => c >= 'E01033900'), 'no 2021-new LSOA code drawn');
      return `${s.coloured} wards coloured on 2021 boundaries; LSOAs moved to 2021 on request (${moved.drawn.length} drawn)`;
    });
  }

  await check('no page errors', async () => {
    assert(errors.length === 0, errors.slice(0, 5).join(' | '));
  });
  await context.close();
});
