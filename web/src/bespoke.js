// Bespoke areas and the target-area finder on the map (an add-on to app.js that only uses the public API and the
// map/state app.js exposes as window.smallareaMap / window.smallareaState).
//  - click selects an area, shift-click adds or removes one; "Save as bespoke area" POSTs the selection and puts
//    bespoke=ID in the URL hash, so the link opens with the area outlined and selected and its totals shown;
//  - "Find target areas" ranks areas in a household band (GET /api/targets), highlights and lists them, zooms to
//    one on click, and links the CSV. Each target shows its interval (value ± rounding bound, rate range) and its band:
//    areas whose rate intervals overlap share a band and are marked "tied within rounding", so the list does not claim
//    a finer order than the rounding allows.

import {
  bespokeExportLinks, capitalise, disclosureLabel, escapeHtml, formatBound, formatCount, formatRate, honestText, householdsText, levelNoun, partialText, roundingText,
} from './text.js';
import { requestJson, whenMapReady } from './api.js';

const $ = (id) => document.getElementById(id);
const SEL_SOURCE = 'bespoke-sel';
const OUTLINE_SOURCE = 'bespoke-outline';
const TARGETS_SOURCE = 'targets-outline';

const bespoke = {
  codes: [], // the current multi-selection (area codes at the map's level)
  level: null,
  id: null, // the saved bespoke area shown, if any
  meta: null,
  totals: null,
  targets: [],
  busy: 0,
};
window.smallareaBespoke = bespoke;

// Read before app.js rewrites the hash from its state; app.js then keeps writing state.bespoke back.
const initialBespoke = new URLSearchParams(window.location.hash.replace(/^#/, '')).get('bespoke');
if (initialBespoke && window.smallareaState) window.smallareaState.bespoke = initialBespoke;

function call(path, options = {}) {
  return requestJson(path, options, bespoke);
}

function hashParams() {
  return new URLSearchParams(window.location.hash.replace(/^#/, ''));
}

function setHashBespoke(id) {
  const state = window.smallareaState;
  state.bespoke = id; // app.js writes it back into the hash with the rest of the view
  const params = hashParams();
  if (id) params.set('bespoke', id);
  else params.delete('bespoke');
  window.history.replaceState(null, '', `${window.location.pathname}${window.location.search}#${params.toString().replace(/%2F/g, '/')}`);
}

// ---------------------------------------------------------------------------------------------------------------
// Map layers (their own sources, so app.js can rebuild its area layers freely)

function ensureLayers(map, level) {
  if (bespoke.level !== level) {
    for (const id of ['bespoke-sel-line', 'targets-line', 'targets-casing']) if (map.getLayer(id)) map.removeLayer(id);
    if (map.getSource(SEL_SOURCE)) map.removeSource(SEL_SOURCE);
    bespoke.level = level;
  }
  if (!map.getSource(SEL_SOURCE)) {
    const tiles = `${window.location.origin}/tiles/${level}/{z}/{x}/{y}.mvt`;
    map.addSource(SEL_SOURCE, { type: 'vector', tiles: [tiles], maxzoom: 16 });
    // A dark casing under the orange line keeps the highlight legible over every class colour, the pale yellow
    // of the lowest class included.
    map.addLayer({ id: 'targets-casing', type: 'line', source: SEL_SOURCE, 'source-layer': level,
      filter: ['in', ['get', 'code'], ['literal', []]], paint: { 'line-color': '#212529', 'line-width': 5.5 } });
    map.addLayer({ id: 'targets-line', type: 'line', source: SEL_SOURCE, 'source-layer': level,
      filter: ['in', ['get', 'code'], ['literal', []]], paint: { 'line-color': '#f08c00', 'line-width': 3 } });
    map.addLayer({ id: 'bespoke-sel-line', type: 'line', source: SEL_SOURCE, 'source-layer': level,
      filter: ['in', ['get', 'code'], ['literal', []]], paint: { 'line-color': '#7048e8', 'line-width': 3 } });
  }
  if (!map.getSource(OUTLINE_SOURCE)) {
    map.addSource(OUTLINE_SOURCE, { type: 'geojson', data: { type: 'FeatureCollection', features: [] } });
    map.addLayer({ id: 'bespoke-outline', type: 'line', source: OUTLINE_SOURCE,
      paint: { 'line-color': '#212529', 'line-width': 4, 'line-dasharray': [2, 1] } });
  }
  if (!map.getSource(TARGETS_SOURCE)) {
    map.addSource(TARGETS_SOURCE, { type: 'geojson', data: { type: 'FeatureCollection', features: [] } });
    map.addLayer({ id: 'targets-fill', type: 'fill', source: TARGETS_SOURCE, paint: { 'fill-color': '#f08c00', 'fill-opacity': 0.25 } });
  }
}

function refreshLayers() {
  const map = window.smallareaMap;
  const state = window.smallareaState;
  if (!map || !state || !state.level || !map.isStyleLoaded()) return;
  ensureLayers(map, state.level);
  map.setFilter('bespoke-sel-line', ['in', ['get', 'code'], ['literal', bespoke.codes]]);
  const targetFilter = ['in', ['get', 'code'], ['literal', bespoke.targets.map((t) => t.code)]];
  map.setFilter('targets-line', targetFilter);
  map.setFilter('targets-casing', targetFilter);
}

function setGeojson(source, geometry) {
  const map = window.smallareaMap;
  if (!map || !map.getSource(source)) return;
  map.getSource(source).setData(geometry ? { type: 'Feature', properties: {}, geometry } : { type: 'FeatureCollection', features: [] });
}

// ---------------------------------------------------------------------------------------------------------------
// Selection and saving

function renderSelection() {
  const count = bespoke.codes.length;
  $('bespoke-count').textContent = count === 0 ? 'No areas selected. Click an area; shift-click adds more.'
    : `${count} area${count === 1 ? '' : 's'} selected`;
  $('bespoke-save').disabled = count === 0;
  refreshLayers();
}

function onAreaClick(event) {
  const feature = event.features && event.features[0];
  if (!feature || !feature.properties.code) return;
  const code = feature.properties.code;
  if (event.originalEvent && event.originalEvent.shiftKey) {
    bespoke.codes = bespoke.codes.includes(code) ? bespoke.codes.filter((c) => c !== code) : [...bespoke.codes, code];
  } else {
    bespoke.codes = [code];
  }
  renderSelection();
}

async function save() {
  const state = window.smallareaState;
  const name = $('bespoke-name').value.trim() || 'Bespoke area';
  $('bespoke-status').textContent = 'Saving…';
  try {
    const created = await call('/api/bespoke', { method: 'POST', body: { name, level: state.level, codes: bespoke.codes } });
    setHashBespoke(created.id);
    await show(created.id, { fit: false });
    $('bespoke-status').textContent = `Saved as ${created.id}. Share this page's address to open it.`;
  } catch (error) {
    $('bespoke-status').textContent = `Could not save: ${error.message}`;
  }
}

// Opens a saved bespoke area: outline, members selected, totals for the mapped dataset.
async function show(id, { fit }) {
  const state = window.smallareaState;
  const [meta, outline] = await Promise.all([call(`/api/bespoke/${encodeURIComponent(id)}`), call(`/api/bespoke/${encodeURIComponent(id)}.geojson`)]);
  bespoke.id = id;
  bespoke.meta = meta;
  bespoke.codes = meta.members.map((m) => m.code);
  renderSelection();
  bespoke.outline = outline.geometry;
  setGeojson(OUTLINE_SOURCE, outline.geometry);
  if (fit && meta.bbox) window.smallareaMap.fitBounds([[meta.bbox[0], meta.bbox[1]], [meta.bbox[2], meta.bbox[3]]], { padding: 40, duration: 0 });
  await loadTotals();
}

const currentDataset = () => {
  const state = window.smallareaState;
  return (window.smallareaCatalog || []).find((d) => d.id === state.dataset) || null;
};

// The shown bespoke area's totals for the mapped dataset/measure/period (again after each change of view).
async function loadTotals() {
  const state = window.smallareaState;
  const meta = bespoke.meta;
  if (!meta) return;
  const token = (bespoke.totalsToken = (bespoke.totalsToken || 0) + 1);
  let totals = null;
  try {
    const table = await call('/api/table', { params: { dataset: state.dataset, measure: state.measure, period: state.period, level: 'bespoke', ids: meta.id } });
    totals = { row: table.rows[0], table, measure: table.measure };
  } catch (error) {
    // 422 PercentageOnly: the server will not give this measure for a user-drawn area (the answer could be differenced
    // against others to recover counts). Its message says why; it is shown as the answer, not as a broken value.
    totals = { error: error.message, code: error.code || null, status: error.status || null };
  }
  if (token !== bespoke.totalsToken) return;
  bespoke.totals = totals;
  renderTotals(meta, totals);
}

function renderTotals(meta, totals) {
  const dataset = currentDataset();
  const memberLevel = meta.level;
  const lines = [`<strong>${escapeHtml(meta.name)}</strong> (${escapeHtml(meta.id)})`,
    `${meta.member_count} ${escapeHtml(levelNoun(memberLevel, meta.member_count))}, <span id="bespoke-households">${
      meta.households === null || meta.households === undefined ? 'unknown' : formatCount(meta.households)}</span> households` +
      (meta.households_complete === false && meta.households !== null
        ? ` <span class="partial">(known for ${meta.members_with_households} of ${meta.member_count})</span>` : '')];
  const notes = [];
  if (totals.row) {
    const r = totals.row;
    const t = totals.table;
    let v;
    if (t.measure.kind === 'percent_only' || r.percent !== undefined) {
      v = `${r.percent ?? '–'}%`;
      if (r.suppressed) v += ' (suppressed: too few to show)';
    } else {
      v = `${r.value ?? '–'}${r.rate_per_100_households != null ? ` (${r.rate_per_100_households} per 100 households)` : ''}`;
    }
    const bound = typeof r.uncertainty === 'number' && r.uncertainty > 0 ? ` <span class="muted">± ${formatBound(r.uncertainty)} from rounding</span>` : '';
    lines.push(`${escapeHtml(t.measure.title)}: <span id="bespoke-value">${escapeHtml(v)}</span>${bound}`);
    const partial = partialText(r, memberLevel);
    if (partial) notes.push(`<span class="partial" id="bespoke-partial">${escapeHtml(partial)}</span>`);
    const households = householdsText(r, memberLevel);
    if (households) notes.push(`<span class="partial">${escapeHtml(households)}</span>`);
    const rounding = roundingText(r, t.suggestion);
    if (rounding) notes.push(`<span class="warning-inline" id="bespoke-rounding">${escapeHtml(rounding)}</span>`);
    lines.push(...notes);
    const d = t.disclosure || {};
    lines.push(`<small>${escapeHtml(disclosureLabel(d, dataset))}: ${escapeHtml(honestText(d.rule || '', d, dataset))}</small>`);
  } else if (totals.code === 'PercentageOnly' || totals.status === 422) {
    lines.push(`<span class="refusal" id="bespoke-refused" role="note">Not shown for a bespoke area: ${escapeHtml(totals.error)}</span>`);
  } else if (totals.error) {
    lines.push(`<small>${escapeHtml(totals.error)}</small>`);
  }
  lines.push(exportLinks(meta, totals));
  $('bespoke-totals').innerHTML = lines.join('<br>');
  $('bespoke-totals').hidden = false;
}

// The same files /api/export/bespoke.{ext} gives (what the API does, the map offers): with the mapped figures when
// the server gave them, else the outline alone (GeoJSON, GeoPackage).
function exportLinks(meta, totals) {
  const withValues = Boolean(totals.row);
  const links = bespokeExportLinks([meta.id], window.smallareaState, withValues);
  return `<span id="bespoke-exports">Download ${withValues ? 'with these figures' : 'the outline'}: ${links}</span>`;
}

// ---------------------------------------------------------------------------------------------------------------
// Target finder

function targetParams() {
  const state = window.smallareaState;
  return { dataset: state.dataset, measure: state.measure, period: state.period,
    min_households: $('targets-min').value, max_households: $('targets-max').value, limit: $('targets-limit').value };
}

async function findTargets() {
  const list = $('targets-list');
  $('targets-status').textContent = 'Searching…';
  try {
    const result = await call('/api/targets', { params: targetParams() });
    bespoke.targets = result.rows;
    bespoke.targetsResult = result;
    list.innerHTML = renderTargets(result);
    const dataset = currentDataset();
    $('targets-status').textContent = `${result.rows.length} of ${result.eligible} areas with ${result.min_households}–${result.max_households} households, ranked by ${result.ranked_by}.` +
      (result.note ? ` ${honestText(result.note, result.disclosure, dataset)}.` : '');
    renderBands(result);
    const csv = new URL('/api/targets', window.location.href);
    for (const [k, v] of Object.entries({ ...targetParams(), format: 'csv' })) if (v) csv.searchParams.set(k, v);
    $('targets-csv').href = csv.toString();
    $('targets-csv').hidden = result.rows.length === 0;
    const xlsx = new URL(csv);
    xlsx.searchParams.set('format', 'xlsx');
    $('targets-xlsx').href = xlsx.toString();
    $('targets-xlsx').hidden = result.rows.length === 0;
    setGeojson(TARGETS_SOURCE, result.outline);
    refreshLayers();
  } catch (error) {
    bespoke.targets = [];
    list.innerHTML = '';
    $('targets-status').textContent = `Could not search: ${error.message}`;
  }
}

// Band sizes: how many rows share each band (rows whose rate intervals overlap cannot be told apart by the rounding).
function bandSizes(rows) {
  const sizes = new Map();
  for (const r of rows) if (typeof r.band === 'number') sizes.set(r.band, (sizes.get(r.band) || 0) + 1);
  return sizes;
}

function targetInterval(r, percent) {
  const parts = [];
  const rate = r.rate ?? r.percent;
  const unit = percent ? '%' : ' per 100 households';
  if (rate !== null && rate !== undefined) {
    const range = typeof r.rate_low === 'number' && typeof r.rate_high === 'number'
      ? ` <span class="range">(${percent ? r.rate_low : formatRate(r.rate_low)}–${percent ? r.rate_high : formatRate(r.rate_high)})</span>` : '';
    parts.push(`<span class="rate">${percent ? rate : formatRate(rate)}${unit}</span>${range}`);
  }
  if (typeof r.value === 'number') {
    const bound = typeof r.uncertainty === 'number' && r.uncertainty > 0 ? ` ± ${formatBound(r.uncertainty)}` : '';
    // value ± bound already is the interval [value_low, value_high]; the rate range is the one that sets the bands.
    parts.push(`<span class="value">${formatCount(r.value)}${bound}</span>`);
  }
  return parts.join('; ');
}

// Each row's list number is its band (shared by ties), not a clean 1..N rank the rounding cannot support.
function renderTargets(result) {
  const percent = result.rate_unit === 'percent';
  const sizes = bandSizes(result.rows);
  return result.rows.map((r) => {
    const banded = typeof r.band === 'number';
    const tied = banded && sizes.get(r.band) > 1;
    const classes = ['target', tied ? 'tied' : '', r.tied_with_next ? 'tied-next' : ''].filter(Boolean).join(' ');
    const tie = tied
      ? ` <span class="tie" title="Their rate intervals overlap: the rounding cannot tell these areas apart">tied within rounding (band ${r.band}, ${sizes.get(r.band)} areas)</span>`
      : '';
    const rounding = r.rounding_dominates ? ' <span class="tie">rounding dominates</span>' : '';
    return `<li value="${banded ? r.band : r.rank}" class="${classes}" data-band="${banded ? r.band : ''}" data-rank="${r.rank}">` +
      `<button type="button" data-code="${escapeHtml(r.code)}">${escapeHtml(r.name)}</button>` +
      ` <span class="target-figures">${formatCount(r.households)} households, ${targetInterval(r, percent)}</span>${tie}${rounding}</li>`;
  }).join('');
}

function renderBands(result) {
  const el = $('targets-bands');
  if (typeof result.bands !== 'number') {
    el.hidden = true;
    el.textContent = '';
    return;
  }
  const n = result.rows.length;
  const text = [`${result.bands} distinct ${result.bands === 1 ? 'band' : 'bands'} among these ${n} ${n === 1 ? 'area' : 'areas'}` +
    (result.bands < n && !result.ties_note ? '; areas in one band are tied within rounding and numbered alike.' : '.')];
  if (result.ties_note) text.push(`${capitalise(honestText(result.ties_note, result.disclosure, currentDataset()).trim().replace(/\.?$/, '.'))}`);
  el.textContent = text.join(' ');
  el.hidden = false;
}

function zoomToTarget(code) {
  const row = bespoke.targets.find((t) => t.code === code);
  if (!row || !row.bbox) return;
  window.smallareaMap.fitBounds([[row.bbox[0], row.bbox[1]], [row.bbox[2], row.bbox[3]]], { padding: 80, maxZoom: 15, duration: 0 });
}

// ---------------------------------------------------------------------------------------------------------------
// Start: wait for app.js's map, then hook in.

function start(map, state) {
  refreshLayers();
  // Shift-drag box zoom would swallow shift-clicks, which add areas to the selection here.
  map.boxZoom.disable();
  map.on('click', 'areas-fill', onAreaClick);
  map.on('styledata', () => refreshLayers());
  $('bespoke-save').addEventListener('click', save);
  $('bespoke-clear').addEventListener('click', () => {
    bespoke.codes = [];
    bespoke.id = null;
    setHashBespoke(null);
    setGeojson(OUTLINE_SOURCE, null);
    $('bespoke-totals').hidden = true;
    renderSelection();
  });
  $('targets-find').addEventListener('click', findTargets);
  // app.js announces a new dataset/measure/period/level: the shown bespoke area's totals follow it.
  window.addEventListener('smallarea:view', () => { if (bespoke.meta) loadTotals(); });
  $('targets-list').addEventListener('click', (event) => {
    const button = event.target.closest('button[data-code]');
    if (button) zoomToTarget(button.dataset.code);
  });
  renderSelection();
  const id = initialBespoke;
  if (id) {
    state.bespoke = id;
    show(id, { fit: !hashParams().get('map') }).catch((error) => { $('bespoke-status').textContent = `Could not open bespoke area ${id}: ${error.message}`; });
  }
  bespoke.started = true;
}

whenMapReady(start);
