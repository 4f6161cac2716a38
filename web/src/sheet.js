// The outreach sheet (#14): one printable A4 page for a target area or a zone, for a leaflet or door-knocking run.
// It holds a picture of the patch (the map itself, fitted to the patch and captured from the WebGL canvas in the
// frame it is drawn, so no preserveDrawingBuffer is needed), the households, the figure with its rounding bound and
// rate range, the disclosure rule and classification ("Internal MI: not for onward sharing" where it applies), the
// names of the places it lies in (LSOA, ward, neighbourhood, district when the row has them), where it is (OS grid
// reference, lat/lon), and the row's live postcodes when the server lists them (nothing when it does not).
// Print CSS (style.css, @page A4) prints the sheet alone. Escape or Close returns to the map, where it was.

import { $ } from './dom.js';
import { boundarySource, getMap } from './map.js';
import { currentDataset, currentMeasure, state } from './state.js';
import {
  BOUNDARY_ATTRIBUTION, disclosureLabel, escapeHtml, formatBound, formatCount, formatPeriod, formatRate, honestText, levelNoun,
} from './text.js';

/// The sheet shown (the browser tests read it through main.js's test hook).
export const sheet = { open: false, kind: null, code: null, image: false };

let returnFocus = null;

// Fits the map to bbox, outlines the sheet's own areas (`codes` at `level`: the patch, or the zone's members) over the
// choropleth, waits for the tiles, captures the canvas in the frame it is drawn, and puts the map back as it was.
const FOCUS_LAYERS = ['sheet-focus-casing', 'sheet-focus-line'];
async function captureMap(bbox, level, codes) {
  const map = getMap();
  if (!map || !bbox) return null;
  const before = { center: map.getCenter(), zoom: map.getZoom() };
  const fill = map.getLayer('targets-fill') ? map.getLayoutProperty('targets-fill', 'visibility') : null;
  try {
    if (level && codes && codes.length) {
      map.addSource('sheet-focus', boundarySource(level));
      const filter = ['in', ['get', 'code'], ['literal', codes]];
      map.addLayer({ id: 'sheet-focus-casing', type: 'line', source: 'sheet-focus', 'source-layer': level, filter, paint: { 'line-color': '#111827', 'line-width': 8 } });
      map.addLayer({ id: 'sheet-focus-line', type: 'line', source: 'sheet-focus', 'source-layer': level, filter, paint: { 'line-color': '#d6336c', 'line-width': 4 } });
    }
    // The other targets keep their outlines; their tint would hide the class colours of the patch.
    if (fill !== null) map.setLayoutProperty('targets-fill', 'visibility', 'none');
    map.fitBounds([[bbox[0], bbox[1]], [bbox[2], bbox[3]]], { padding: 60, maxZoom: 16, duration: 0 });
    await new Promise((resolve) => {
      const timer = setTimeout(resolve, 8000); // a tile that never comes should not hold the sheet
      map.once('idle', () => { clearTimeout(timer); resolve(); });
      map.triggerRepaint();
    });
    return await new Promise((resolve) => {
      map.once('render', () => {
        try {
          resolve(map.getCanvas().toDataURL('image/png'));
        } catch {
          resolve(null);
        }
      });
      map.triggerRepaint();
    });
  } finally {
    for (const id of FOCUS_LAYERS) if (map.getLayer(id)) map.removeLayer(id);
    if (map.getSource('sheet-focus')) map.removeSource('sheet-focus');
    if (fill !== null) map.setLayoutProperty('targets-fill', 'visibility', fill || 'visible');
    map.jumpTo(before);
  }
}

function fact(label, html, field) {
  return `<dt>${escapeHtml(label)}</dt><dd data-field="${field}">${html}</dd>`;
}

function figureHtml(r, percent) {
  if (percent) {
    const range = typeof r.percent_low === 'number' ? ` (between ${r.percent_low}% and ${r.percent_high}%)` : '';
    return `${escapeHtml(String(r.percent))}%${escapeHtml(range)}`;
  }
  const bound = typeof r.uncertainty === 'number' && r.uncertainty > 0 ? ` ± ${formatBound(r.uncertainty)}` : '';
  const rate = typeof r.rate === 'number'
    ? `; ${formatRate(r.rate)} per 100 households${typeof r.rate_low === 'number' ? ` (${formatRate(r.rate_low)} to ${formatRate(r.rate_high)} allowing for rounding)` : ''}`
    : '';
  return escapeHtml(`${formatCount(r.value)}${bound}${rate}`);
}

// The places a row lies in, by the names people use: LSOA, ward, neighbourhood, district.
function placeFacts(r) {
  const out = [];
  const places = r.places || {};
  if (places.lsoa && places.lsoa.name) out.push(fact('LSOA', `${escapeHtml(places.lsoa.name)} <code>${escapeHtml(places.lsoa.code)}</code>`, 'lsoa'));
  if (r.ward && r.ward.name) out.push(fact('Ward', `${escapeHtml(r.ward.name)}${r.ward.code ? ` <code>${escapeHtml(r.ward.code)}</code>` : ''}`, 'ward'));
  if (r.neighbourhood) out.push(fact('Neighbourhood', escapeHtml(r.neighbourhood), 'neighbourhood'));
  else if (places.msoa && places.msoa.name) out.push(fact('MSOA', `${escapeHtml(places.msoa.name)} <code>${escapeHtml(places.msoa.code)}</code>`, 'msoa'));
  if (places.lad && places.lad.name) out.push(fact('District', `${escapeHtml(places.lad.name)} <code>${escapeHtml(places.lad.code)}</code>`, 'lad'));
  return out;
}

function postcodesHtml(r) {
  if (!Array.isArray(r.postcodes)) return ''; // a server without postcodes: say nothing
  const live = typeof r.postcodes_live === 'number' ? r.postcodes_live : r.postcodes.length;
  const list = r.postcodes.map((p) => `<li>${escapeHtml(typeof p === 'string' ? p : p.postcode || p.pcds || '')}</li>`).join('');
  const more = r.postcodes_truncated ? `<p class="muted">The first ${formatCount(r.postcodes.length)} of ${formatCount(live)} live postcodes (the CSV and XLSX of the list have them all).</p>` : '';
  return `<section class="sheet-postcodes" aria-labelledby="sheet-postcodes-title"><h3 id="sheet-postcodes-title">Postcodes (${formatCount(live)} live)</h3>` +
    (list ? `<ul id="sheet-postcode-list">${list}</ul>` : '<p>No live postcode in this area.</p>') + more + '</section>';
}

/// Opens the sheet of one target row `r` of the /api/targets answer `result`, or of one zone (`kind: 'zone'`,
/// `r` the zone, `result` the /api/zones answer, `bbox` its bounding box).
export async function openSheet({ kind, r, result, bbox }) {
  const dataset = currentDataset();
  const measure = currentMeasure();
  const disclosure = result.disclosure || (dataset && dataset.disclosure) || {};
  const percent = result.rate_unit === 'percent' || (measure && measure.kind === 'percent_only');
  const internal = (result.classification || disclosure.classification) === 'internal';
  returnFocus = document.activeElement;
  const el = $('sheet');
  sheet.open = true;
  sheet.kind = kind;
  sheet.code = kind === 'zone' ? r.id : r.code;
  sheet.image = false;
  const title = kind === 'zone' ? `Zone ${r.rank}` : r.name || r.code;
  el.innerHTML = '<p class="muted">Preparing the sheet…</p>';
  el.hidden = false;
  document.body.classList.add('sheet-open');
  const image = kind === 'zone'
    ? await captureMap(bbox, result.level, r.members)
    : await captureMap(r.bbox, r.level || result.level, [r.code]);
  sheet.image = Boolean(image);
  const facts = [];
  if (kind === 'zone') {
    facts.push(fact('Areas', `${formatCount(r.members.length)} ${escapeHtml(levelNoun(result.level, r.members.length))}: ${r.members.map((m) => `<code>${escapeHtml(m)}</code>`).join(', ')}`, 'members'));
  } else {
    // Output Areas have no names: their code once, not twice.
    const named = r.name && r.name !== r.code ? `${escapeHtml(r.name)} ` : '';
    facts.push(fact('Area', `${named}<code>${escapeHtml(r.code)}</code> (${escapeHtml(levelNoun(r.level || result.level, 1))})`, 'area'));
  }
  facts.push(fact('Households', escapeHtml(formatCount(r.households)), 'households'));
  facts.push(fact(measure ? measure.title : 'Figure', figureHtml(r, percent), 'figure'));
  if (r.figure_for) {
    facts.push(fact('Whose figure', escapeHtml(`the whole ${r.figure_for.level.toUpperCase()} ${r.figure_for.name || r.figure_for.code}` +
      `${typeof r.figure_for.households === 'number' ? ` (${formatCount(r.figure_for.households)} households)` : ''}, not apportioned to this patch`), 'figure-for'));
  }
  if (typeof r.band === 'number') facts.push(fact('Band', escapeHtml(`${r.band} (areas in one band are tied within rounding)`), 'band'));
  facts.push(...placeFacts(r));
  if (r.grid_ref) facts.push(fact('OS grid reference', `<span class="grid-ref">${escapeHtml(r.grid_ref)}</span>`, 'grid-ref'));
  if (Array.isArray(r.point)) facts.push(fact('Lat, lon', escapeHtml(`${r.point[1].toFixed(5)}, ${r.point[0].toFixed(5)}`), 'latlon'));
  const label = disclosureLabel(disclosure, dataset);
  el.innerHTML = `
    <div class="sheet-page">
      <div class="sheet-actions">
        <button id="sheet-print" type="button">Print</button>
        <button id="sheet-close" type="button">Close (Esc)</button>
      </div>
      <header class="sheet-head">
        <h2 id="sheet-title" tabindex="-1">Outreach sheet: ${escapeHtml(title)}</h2>
        <p>${escapeHtml(`${dataset ? dataset.title : ''}: ${measure ? measure.title : ''}, ${formatPeriod(result.period || state.period)}`)}</p>
        ${internal ? '<p class="sheet-internal" data-field="internal">Internal MI: not for onward sharing.</p>' : ''}
      </header>
      ${image ? `<img id="sheet-map" class="sheet-map" src="${image}" alt="${escapeHtml(`Map of ${title}: its outline in pink over the mapped classes, other targets outlined in white`)}">`
    : '<p class="warning">The map picture could not be made.</p>'}
      <dl class="facts sheet-facts">${facts.join('')}</dl>
      ${postcodesHtml(r)}
      <footer class="sheet-foot">
        <p class="disclosure-label" data-classification="${escapeHtml(disclosure.classification || '')}" data-field="classification">${escapeHtml(label)}</p>
        <p class="disclosure-rule" data-field="rule">${escapeHtml(honestText(disclosure.rule || '', disclosure, dataset))}</p>
        <p class="muted">${escapeHtml(BOUNDARY_ATTRIBUTION)} Made with smallarea on ${escapeHtml(new Date().toLocaleDateString('en-GB', { day: 'numeric', month: 'long', year: 'numeric' }))}.</p>
      </footer>
    </div>`;
  $('sheet-print').addEventListener('click', () => window.print());
  $('sheet-close').addEventListener('click', closeSheet);
  $('sheet-title').focus();
}

export function closeSheet() {
  const el = $('sheet');
  el.hidden = true;
  el.innerHTML = '';
  document.body.classList.remove('sheet-open');
  sheet.open = false;
  if (returnFocus && document.contains(returnFocus)) returnFocus.focus();
}

/// Escape closes the sheet (called once by main.js).
export function bindSheet() {
  $('sheet').addEventListener('keydown', (event) => {
    if (event.key === 'Escape') {
      event.stopPropagation();
      closeSheet();
    }
  });
}
