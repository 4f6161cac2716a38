// smallarea web map: a MapLibre choropleth of small-area statistics served by the smallarea server.
//
// It uses only the public HTTP API (/api/datasets, /api/table, /api/breaks, /api/areas, /api/config and the
// vector tiles under /tiles). Every value it shows has already been protected by the server (rounded, suppressed,
// percentage-only); the page never derives a volume the server did not send, and class breaks come from the server.
//
// The whole view lives in the URL hash (#dataset=..&measure=..&map=zoom/lat/lng&area=CODE), so a copied link
// reproduces it. For tests, window.smallareaMap is the maplibregl.Map, window.smallareaState the live view state
// and window.smallareaIdle() resolves once every fetch has finished and the map has rendered its tiles.

import { transformRequest } from './auth.js'; // partner key: Bearer header on fetches, tiles, downloads
import {
  COMPLETE_SHARE, capitalise, disclosureLabel, escapeHtml, formatCount, formatPeriod, honestText, householdsText, levelNoun, partialText,
  percentOf, periodCoverage, periodCoverageText, roundingText,
} from './text.js';

const maplibregl = window.maplibregl;

// Coarsest last. A dataset can be shown at its own level or any coarser level that has boundaries.
const LEVELS = [
  { id: 'oa', label: 'Output Areas (OA)', short: 'OA' },
  { id: 'lsoa', label: 'Lower layer Super Output Areas (LSOA)', short: 'LSOA' },
  { id: 'msoa', label: 'Middle layer Super Output Areas (MSOA)', short: 'MSOA' },
  { id: 'lad', label: 'Local authority districts (LAD)', short: 'Local authority' },
];
const LEVEL_SHORT = { oa: 'Output Area', lsoa: 'LSOA', msoa: 'MSOA', lad: 'Local authority' };

// ColorBrewer YlGnBu (Cynthia Brewer, Penn State): sequential and colour-blind safe for 3 to 9 classes.
const PALETTES = {
  3: ['#edf8b1', '#7fcdbb', '#2c7fb8'],
  4: ['#ffffcc', '#a1dab4', '#41b6c4', '#225ea8'],
  5: ['#ffffcc', '#a1dab4', '#41b6c4', '#2c7fb8', '#253494'],
  6: ['#ffffcc', '#c7e9b4', '#7fcdbb', '#41b6c4', '#2c7fb8', '#253494'],
  7: ['#ffffcc', '#c7e9b4', '#7fcdbb', '#41b6c4', '#1d91c0', '#225ea8', '#0c2c84'],
  8: ['#ffffd9', '#edf8b1', '#c7e9b4', '#7fcdbb', '#41b6c4', '#1d91c0', '#225ea8', '#0c2c84'],
  9: ['#ffffd9', '#edf8b1', '#c7e9b4', '#7fcdbb', '#41b6c4', '#1d91c0', '#225ea8', '#253494', '#081d58'],
};
const MISSING_FILL = '#c9ced6';
const SUPPRESSED_FILL = '#f3f4f6';
// The boundaries (ONS, OGL) are on every map whatever the dataset; each dataset's own attribution and licence come
// from /api/datasets and go with its layer (a dataset is not necessarily under the OGL).
const BOUNDARY_ATTRIBUTION =
  'Boundaries: ONS, Open Government Licence v3.0. ' +
  'Contains OS data © Crown copyright and database right.';

// Short labels for the "Show as" picker; the legend subtitle spells the unit out.
const OF_LABELS = {
  rate: 'Rate',
  value: 'Count',
  percent: 'Percent',
};

// The live view. Everything that the URL carries is a top-level field here.
const state = {
  dataset: null,
  measure: null,
  period: null,
  level: null,
  of: null,
  method: 'quantile',
  classes: 5,
  view: null, // {zoom, lat, lng}
  area: null, // selected area code
  // Derived, read-only for tests.
  classification: null,
  breaks: null,
  colours: null,
  row: null,
  partial: null, // {key, level, rows, partial}: partial sums on a coarser level (refreshPartial)
  pending: 0,
  ready: false,
  error: null,
};
window.smallareaState = state;

let catalog = [];
const tileLevels = new Set();
const areaNames = new Map(); // code -> name, for parent areas
let map = null;
let mapReady = false; // set once the style has loaded and the context layers are in
let hoveredId = null;
let lastWrittenHash = '';
let breaksToken = 0;
let detailsToken = 0;

const $ = (id) => document.getElementById(id);

// ---------------------------------------------------------------------------------------------------------------
// HTTP

async function api(path, params = {}) {
  const url = new URL(path, window.location.href);
  for (const [key, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== '') url.searchParams.set(key, value);
  }
  state.pending += 1;
  try {
    const response = await fetch(url, { headers: { Accept: 'application/json' } });
    const text = await response.text();
    let body = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = null;
    }
    if (!response.ok) {
      const message = body && body.message ? body.message : `${response.status} ${response.statusText}`;
      const error = new Error(message);
      error.status = response.status;
      error.code = body && body.code;
      throw error;
    }
    return body;
  } finally {
    state.pending -= 1;
  }
}


function tableUrl(extra = {}) {
  const url = new URL('/api/table', window.location.href);
  const params = { dataset: state.dataset, measure: state.measure, period: state.period, level: state.level, ...extra };
  for (const [key, value] of Object.entries(params)) if (value) url.searchParams.set(key, value);
  return url;
}

function tileTemplate(level, withData) {
  // Built by hand: new URL() would percent-encode the {z}/{x}/{y} placeholders.
  let template = `${window.location.origin}/tiles/${encodeURIComponent(level)}/{z}/{x}/{y}.mvt`;
  if (withData) {
    const q = new URLSearchParams({ dataset: state.dataset, measure: state.measure, period: state.period });
    template += `?${q}`;
  }
  return template;
}

// ---------------------------------------------------------------------------------------------------------------
// State helpers

const currentDataset = () => catalog.find((d) => d.id === state.dataset) || null;
const currentMeasure = () => {
  const d = currentDataset();
  return d ? d.measures.find((m) => m.id === state.measure) || null : null;
};
const levelIndex = (id) => LEVELS.findIndex((l) => l.id === id);

function ofOptions(measure) {
  if (!measure) return [];
  if (measure.kind === 'percent_only') return ['percent'];
  return measure.denominator ? ['rate', 'value'] : ['value'];
}

function levelOptions(dataset) {
  if (!dataset) return [];
  const from = levelIndex(dataset.level);
  return LEVELS.filter((l, i) => (from < 0 ? l.id === dataset.level : i >= from) && (tileLevels.has(l.id) || l.id === dataset.level));
}

// Bring a wanted state (from the URL or a picker) to the nearest valid one.
function normalise(wanted) {
  const dataset = catalog.find((d) => d.id === wanted.dataset) || catalog[0];
  if (!dataset) return;
  state.dataset = dataset.id;
  const measure = dataset.measures.find((m) => m.id === wanted.measure) || dataset.measures[0];
  state.measure = measure ? measure.id : null;
  const periods = dataset.periods || [];
  state.period = periods.includes(wanted.period) ? wanted.period : periods[periods.length - 1] || null;
  const levels = levelOptions(dataset).map((l) => l.id);
  state.level = levels.includes(wanted.level) ? wanted.level : dataset.level;
  const ofs = ofOptions(measure);
  state.of = ofs.includes(wanted.of) ? wanted.of : ofs[0] || null;
  state.method = ['quantile', 'jenks', 'equal'].includes(wanted.method) ? wanted.method : 'quantile';
  const classes = Number.parseInt(wanted.classes, 10);
  state.classes = classes >= 3 && classes <= 9 ? classes : 5;
  state.classification = dataset.classification;
}

// ---------------------------------------------------------------------------------------------------------------
// URL: #dataset=..&measure=..&period=..&level=..&of=..&method=..&classes=..&map=zoom/lat/lng&area=CODE

function readUrl() {
  const raw = window.location.hash.replace(/^#/, '') || window.location.search.replace(/^\?/, '');
  const params = new URLSearchParams(raw);
  const wanted = Object.fromEntries(params.entries());
  if (wanted.map) {
    const [zoom, lat, lng] = wanted.map.split('/').map(Number);
    if ([zoom, lat, lng].every(Number.isFinite)) wanted.view = { zoom, lat, lng };
  }
  return wanted;
}

function writeUrl() {
  const params = new URLSearchParams();
  for (const key of ['dataset', 'measure', 'period', 'level', 'of', 'method', 'classes']) {
    if (state[key] !== null && state[key] !== undefined) params.set(key, String(state[key]));
  }
  if (map) {
    const c = map.getCenter();
    state.view = { zoom: map.getZoom(), lat: c.lat, lng: c.lng };
  }
  if (state.view) params.set('map', `${state.view.zoom.toFixed(2)}/${state.view.lat.toFixed(5)}/${state.view.lng.toFixed(5)}`);
  if (state.area) params.set('area', state.area);
  if (state.bespoke) params.set('bespoke', state.bespoke); // a saved bespoke area (bespoke.js)
  const hash = `#${params.toString().replace(/%2F/g, '/')}`;
  if (hash !== window.location.hash) {
    lastWrittenHash = hash;
    window.history.replaceState(null, '', `${window.location.pathname}${window.location.search}${hash}`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Formatting

const nf0 = new Intl.NumberFormat('en-GB', { maximumFractionDigits: 0 });
const nf1 = new Intl.NumberFormat('en-GB', { minimumFractionDigits: 1, maximumFractionDigits: 1 });
const nf2 = new Intl.NumberFormat('en-GB', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

function formatOf(of, v) {
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  if (of === 'percent') return `${nf0.format(v)}%`;
  if (of === 'rate') return nf2.format(v);
  return nf0.format(v);
}

function unitPhrase(of, measure) {
  if (of === 'rate') return `${measure ? measure.title.toLowerCase() : 'people'} per 100 households`;
  if (of === 'percent') return measure && measure.percent_of ? `% of ${measure.percent_of.replace(/_/g, ' ')}` : 'per cent';
  return measure ? `${measure.unit || 'count'} (rounded count)` : 'count';
}


// ---------------------------------------------------------------------------------------------------------------
// Pickers

function fillSelect(select, options, value) {
  select.replaceChildren(
    ...options.map(([v, label]) => {
      const option = document.createElement('option');
      option.value = v;
      option.textContent = label;
      option.selected = v === value;
      return option;
    }),
  );
  select.value = value ?? '';
  select.disabled = options.length <= 1;
}

function renderPickers() {
  const dataset = currentDataset();
  const measure = currentMeasure();
  fillSelect(
    $('dataset'),
    catalog.map((d) => [d.id, `${d.title}${d.classification === 'internal' ? ' [internal]' : ''}`]),
    state.dataset,
  );
  $('dataset').disabled = catalog.length === 0;
  fillSelect($('measure'), dataset ? dataset.measures.map((m) => [m.id, m.kind === 'percent_only' ? `${m.title} (%)` : m.title]) : [], state.measure);
  fillSelect($('period'), dataset ? [...dataset.periods].reverse().map((p) => [p, periodOptionLabel(dataset, p)]) : [], state.period);
  fillSelect($('of'), ofOptions(measure).map((o) => [o, OF_LABELS[o]]), state.of);
  fillSelect(
    $('level'),
    levelOptions(dataset).map((l) => [l.id, l.short]),
    state.level,
  );
  $('method').value = state.method;
  $('classes').value = String(state.classes);
  $('dataset-source').textContent = dataset
    ? `Source: ${dataset.publisher}. Licence: ${dataset.licence}. Release ${dataset.release}, ${dataset.vintage} boundaries.`
    : '';
  renderCredits(dataset);
  renderPeriodCoverage(dataset);
  renderClassification(dataset ? dataset.disclosure : null);
}

// "October 2017 (91% of LSOAs)" for a period under the server's completeness threshold, so the picker itself
// warns before a partial month is chosen.
function periodOptionLabel(dataset, period) {
  const c = periodCoverage(dataset, period);
  if (!c || c.share >= COMPLETE_SHARE) return formatPeriod(period);
  return `${formatPeriod(period)} (${percentOf(c.share)})`;
}

// Next to the period picker: how much of the chosen period has data and, when it is under the threshold, a one-click
// switch to the latest period that is complete. Hidden when the server does not report coverage.
function renderPeriodCoverage(dataset) {
  const note = $('period-coverage');
  const text = periodCoverageText(dataset, state.period);
  const c = periodCoverage(dataset, state.period);
  if (!text || !c || c.areas_with_value >= c.areas) {
    note.hidden = true;
    note.dataset.share = '';
    return;
  }
  const incomplete = c.share < COMPLETE_SHARE;
  note.hidden = false;
  note.dataset.share = String(c.share);
  note.classList.toggle('warning', incomplete);
  $('period-coverage-text').textContent = incomplete
    ? `${text}. Areas without data are grey, and totals over them are partial.`
    : `${text}.`;
  const button = $('period-coverage-switch');
  const target = dataset.latest_complete_period;
  if (incomplete && target && target !== state.period && dataset.periods.includes(target)) {
    button.hidden = false;
    button.dataset.period = target;
    button.textContent = `Show ${formatPeriod(target)} instead (latest month with data for at least ${Math.round(COMPLETE_SHARE * 100)}% of ${levelNoun(dataset.level)})`;
  } else {
    button.hidden = true;
    button.dataset.period = '';
    if (incomplete && !target) $('period-coverage-text').textContent += ` No period has data for ${Math.round(COMPLETE_SHARE * 100)}% of ${levelNoun(dataset.level)}.`;
  }
}

// The credits under the panel: the boundary statement always, then the mapped dataset's own attribution and licence.
function renderCredits(dataset) {
  const parts = [BOUNDARY_ATTRIBUTION];
  if (dataset) {
    const attribution = honestText(dataset.attribution || `Source: ${dataset.publisher}.`, dataset.disclosure, dataset);
    parts.push(`${dataset.title}: ${attribution}${dataset.licence && !attribution.includes(dataset.licence) ? ` Licence: ${dataset.licence}.` : ''}`);
  }
  $('credits').textContent = parts.join(' ');
}

function renderClassification(disclosure) {
  const classification = disclosure ? disclosure.classification : '';
  const label = disclosureLabel(disclosure, currentDataset());
  const badge = $('classification-badge');
  const short = { published: 'Published', internal: 'Internal MI' }[classification] || label;
  badge.innerHTML = `<span class="badge-long">${escapeHtml(label)}</span><span class="badge-short" aria-hidden="true">${escapeHtml(short)}</span>`;
  badge.dataset.classification = classification;
  $('internal-banner').hidden = classification !== 'internal';
  document.body.dataset.classification = classification;
}

function bindPickers() {
  const onChange = (key, { rebuild }) => (event) => {
    const wanted = { ...state, [key]: event.target.value };
    if (key === 'dataset') {
      // Keep the measure/period only if the new dataset has them; level falls back to the dataset's own.
      wanted.level = null;
      wanted.of = null;
    }
    if (key === 'measure') wanted.of = null;
    normalise(wanted);
    if (key === 'dataset' || key === 'level') clearSelection({ write: false });
    renderPickers();
    if (rebuild) refreshAreas();
    else refreshBreaks();
    if (state.area) loadDetails();
    writeUrl();
  };
  $('dataset').addEventListener('change', onChange('dataset', { rebuild: true }));
  $('measure').addEventListener('change', onChange('measure', { rebuild: true }));
  $('period').addEventListener('change', onChange('period', { rebuild: true }));
  $('level').addEventListener('change', onChange('level', { rebuild: true }));
  $('of').addEventListener('change', onChange('of', { rebuild: false }));
  $('method').addEventListener('change', onChange('method', { rebuild: false }));
  $('classes').addEventListener('change', onChange('classes', { rebuild: false }));
  $('details-close').addEventListener('click', () => clearSelection({ write: true }));
  $('details-body').addEventListener('click', (event) => {
    const button = event.target.closest('button[data-level]');
    if (button) switchLevel(button.dataset.level, button.dataset.parent);
  });
  $('period-coverage-switch').addEventListener('click', (event) => {
    const period = event.currentTarget.dataset.period;
    if (!period) return;
    $('period').value = period;
    $('period').dispatchEvent(new Event('change'));
    $('period').focus(); // the switch hides itself; keep the keyboard user on the picker it changed
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Map layers

const AREA_LAYERS = ['areas-fill', 'areas-hatch', 'areas-outline', 'areas-hover', 'areas-selected-casing', 'areas-selected'];

function hatchImage() {
  // A seamless 8 px diagonal hatch at device pixel ratio 2, drawn on a canvas.
  const size = 16;
  const canvas = document.createElement('canvas');
  canvas.width = size;
  canvas.height = size;
  const ctx = canvas.getContext('2d');
  ctx.strokeStyle = '#a3acb8';
  ctx.lineWidth = 1.6;
  ctx.beginPath();
  for (const offset of [-size, 0, size]) {
    ctx.moveTo(offset, size);
    ctx.lineTo(offset + size, 0);
  }
  ctx.stroke();
  return ctx.getImageData(0, 0, size, size);
}

function fillColourExpression() {
  const prop = state.of;
  const breaks = state.breaks ? state.breaks.breaks : [];
  const colours = paletteFor(breaks.length);
  state.colours = colours;
  let classed;
  if (breaks.length <= 1) {
    classed = colours[0] || MISSING_FILL;
  } else {
    // Breaks are inclusive upper bounds; `step` switches at >= stop, so each stop sits just above the break.
    classed = ['step', ['to-number', ['get', prop]], colours[0]];
    for (let i = 0; i < breaks.length - 1; i += 1) {
      const b = breaks[i];
      classed.push(b + Math.max(1e-9, Math.abs(b) * 1e-9), colours[i + 1]);
    }
  }
  return [
    'case',
    ['==', ['get', 'suppressed'], true], SUPPRESSED_FILL,
    ['==', ['get', 'missing'], true], MISSING_FILL,
    ['!', ['has', prop]], MISSING_FILL,
    classed,
  ];
}

function paletteFor(n) {
  if (n <= 0) return [];
  if (n >= 3) return PALETTES[Math.min(n, 9)];
  return n === 1 ? [PALETTES[3][1]] : [PALETTES[3][0], PALETTES[3][2]];
}

// The dataset's own attribution (its licence named), shown on the map next to the boundary statement.
function datasetAttribution(dataset) {
  const text = honestText(dataset.attribution || '', dataset.disclosure, dataset).trim() || `Source: ${dataset.publisher}.`;
  return dataset.licence && !text.includes(dataset.licence) ? `${text} Licence: ${dataset.licence}.` : text;
}

function removeAreaLayers() {
  for (const id of AREA_LAYERS) if (map.getLayer(id)) map.removeLayer(id);
  if (map.getSource('areas')) map.removeSource('areas');
  hoveredId = null;
}

function refreshAreas() {
  // Not map.isStyleLoaded(): that is false while any source is still fetching tiles, which would drop a change.
  if (!map || !mapReady) return;
  const dataset = currentDataset();
  if (!dataset) return;
  removeAreaLayers();
  const level = state.level;
  map.addSource('areas', {
    type: 'vector',
    tiles: [tileTemplate(level, true)],
    minzoom: 0,
    maxzoom: 16,
    attribution: escapeHtml(datasetAttribution(dataset)),
  });
  const before = map.getLayer('lad-outline') ? 'lad-outline' : undefined;
  const common = { source: 'areas', 'source-layer': level };
  map.addLayer({ id: 'areas-fill', type: 'fill', ...common, paint: { 'fill-color': fillColourExpression(), 'fill-opacity': state.basemap ? 0.78 : 1 } }, before);
  map.addLayer({ id: 'areas-hatch', type: 'fill', ...common, filter: ['==', ['get', 'suppressed'], true], paint: { 'fill-pattern': 'hatch' } }, before);
  map.addLayer(
    {
      id: 'areas-outline',
      type: 'line',
      ...common,
      paint: {
        'line-color': level === 'oa' ? 'rgba(255,255,255,0.55)' : 'rgba(255,255,255,0.8)',
        'line-width': ['interpolate', ['linear'], ['zoom'], 9, 0.2, 12, 0.6, 15, 1.2],
      },
    },
    before,
  );
  map.addLayer(
    {
      id: 'areas-hover',
      type: 'line',
      ...common,
      paint: {
        'line-color': '#1f2933',
        'line-width': ['case', ['boolean', ['feature-state', 'hover'], false], 2, 0],
      },
    },
    before,
  );
  const selectedFilter = ['==', ['get', 'code'], state.area || ''];
  map.addLayer({ id: 'areas-selected-casing', type: 'line', ...common, filter: selectedFilter, paint: { 'line-color': '#ffffff', 'line-width': 6 } });
  map.addLayer({ id: 'areas-selected', type: 'line', ...common, filter: selectedFilter, paint: { 'line-color': '#d6336c', 'line-width': 3 } });
  refreshBreaks();
  refreshPartial();
  // bespoke.js recomputes a shown bespoke area's totals for the new dataset/measure/period.
  window.dispatchEvent(new CustomEvent('smallarea:view', { detail: { dataset: state.dataset, measure: state.measure, period: state.period, level: state.level } }));
}

function setSelectionFilter() {
  if (!map) return;
  const filter = ['==', ['get', 'code'], state.area || ''];
  for (const id of ['areas-selected-casing', 'areas-selected']) if (map.getLayer(id)) map.setFilter(id, filter);
}

async function refreshBreaks() {
  const token = ++breaksToken;
  $('legend').setAttribute('aria-busy', 'true');
  try {
    const breaks = await api('/api/breaks', {
      dataset: state.dataset,
      measure: state.measure,
      period: state.period,
      level: state.level,
      method: state.method,
      classes: state.classes,
      of: state.of,
    });
    if (token !== breaksToken) return;
    state.breaks = breaks;
    state.error = null;
    showStatus(null);
    if (map && map.getLayer('areas-fill')) map.setPaintProperty('areas-fill', 'fill-color', fillColourExpression());
    else fillColourExpression();
    renderLegend();
    state.ready = true;
  } catch (error) {
    if (token !== breaksToken) return;
    state.error = error.message;
    showStatus(`Could not load the classes: ${error.message}`);
  } finally {
    if (token === breaksToken) $('legend').removeAttribute('aria-busy');
  }
}

function showStatus(message) {
  const el = $('map-status');
  el.hidden = !message;
  el.textContent = message || '';
}

// ---------------------------------------------------------------------------------------------------------------
// Legend

function renderLegend() {
  const b = state.breaks;
  const measure = currentMeasure();
  const dataset = currentDataset();
  const disclosure = (b && b.disclosure) || (dataset && dataset.disclosure) || null;
  $('legend-title').textContent = measure ? measure.title : 'Legend';
  const levelName = (LEVELS.find((l) => l.id === state.level) || { label: state.level }).label;
  $('legend-subtitle').textContent = `${capitalise(unitPhrase(state.of, measure))}, ${formatPeriod(state.period)}, by ${levelName}`;

  const list = $('legend-classes');
  const classes = b ? b.classes : [];
  list.replaceChildren(
    ...classes.map((c, i) => {
      const li = document.createElement('li');
      li.dataset.classIndex = String(i);
      const swatch = document.createElement('span');
      swatch.className = 'swatch';
      swatch.style.background = state.colours[i];
      swatch.setAttribute('aria-hidden', 'true');
      const label = document.createElement('span');
      label.className = 'class-range';
      label.textContent = c.min === c.max ? formatOf(state.of, c.max) : `${i === 0 ? '' : 'over '}${formatOf(state.of, c.min)} to ${formatOf(state.of, c.max)}`;
      const count = document.createElement('span');
      count.className = 'class-count';
      count.textContent = `${nf0.format(c.count)} ${c.count === 1 ? 'area' : 'areas'}`;
      li.append(swatch, label, count);
      if (c.narrower_than_rounding) {
        li.classList.add('narrow');
        const flag = document.createElement('span');
        flag.className = 'narrow-flag';
        flag.title = 'This class is narrower than the rounding error';
        flag.textContent = '⚠';
        flag.setAttribute('aria-label', 'narrower than the rounding error');
        label.append(' ', flag);
      }
      return li;
    }),
  );
  if (classes.length === 0) {
    const li = document.createElement('li');
    li.className = 'empty';
    li.textContent = 'No values to classify for this selection.';
    list.append(li);
  }

  const warning = $('legend-warning');
  warning.hidden = !(b && b.warning);
  warning.textContent = b && b.warning ? `Caution: ${b.warning}.` : '';

  renderLegendCoverage(dataset);
  if (disclosure) {
    const labelEl = $('legend-label');
    labelEl.textContent = disclosureLabel(disclosure, dataset);
    labelEl.dataset.classification = disclosure.classification;
    const by = disclosure.rounded_by === 'publisher' ? 'by the publisher' : 'by smallarea before release';
    $('legend-rounding').textContent = `Counts rounded to the nearest ${disclosure.rounding_base} ${by}` +
      (disclosure.suppression_threshold > 0 ? `; cells under ${disclosure.suppression_threshold} suppressed.` : '.');
    $('legend-rule').textContent = honestText(disclosure.rule, disclosure, dataset);
    renderClassification(disclosure);
  }
  $('download-csv').href = tableUrl({ format: 'csv' }).toString();
  // The server's dated file name (Content-Disposition), as for every other export.
  $('download-csv').setAttribute('download', '');
  $('download-xlsx').href = tableUrl({ format: 'xlsx' }).toString();
  $('download-xlsx').setAttribute('download', `${state.dataset}_${state.measure}_${state.period}_${state.level}.xlsx`);
}


// The legend says how much of the map has data: the period's coverage at the dataset's own level and, on a coarser
// level, how many of the areas drawn are partial sums (state.partial, from the table at that level).
function renderLegendCoverage(dataset) {
  const el = $('legend-coverage');
  const lines = [];
  const c = periodCoverage(dataset, state.period);
  if (c && c.areas_with_value < c.areas) {
    lines.push(`${formatCount(c.areas_with_value)} of ${formatCount(c.areas)} ${levelNoun(dataset.level)} have data for ${formatPeriod(state.period)} (${percentOf(c.share)}); the others are grey.`);
  }
  const p = state.partial;
  if (p && p.level === state.level && p.key === viewKey() && p.partial > 0) {
    lines.push(`${formatCount(p.partial)} of ${formatCount(p.rows)} ${levelNoun(state.level)} are partial: they sum only the ${levelNoun(dataset.level)} that have data.`);
  }
  el.hidden = lines.length === 0;
  el.textContent = lines.join(' ');
}

const viewKey = () => [state.dataset, state.measure, state.period, state.level].join('|');

// On a level coarser than the dataset's, count the areas whose sum misses some cells (rows with complete: false).
// Only the JSON table knows; an older server without `complete` leaves state.partial null and the legend silent.
async function refreshPartial() {
  const dataset = currentDataset();
  const key = viewKey();
  state.partial = null;
  if (!dataset || state.level === dataset.level) return;
  try {
    const table = await api('/api/table', { dataset: state.dataset, measure: state.measure, period: state.period, level: state.level });
    if (key !== viewKey()) return;
    const rows = table.rows || [];
    if (!rows.some((r) => typeof r.complete === 'boolean')) return;
    state.partial = { key, level: state.level, rows: rows.length, partial: rows.filter((r) => r.complete === false).length };
    renderLegendCoverage(dataset);
  } catch {
    // the legend simply says nothing about partial areas
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Selection and details panel

function select(code, { scroll = false } = {}) {
  state.area = code;
  setSelectionFilter();
  loadDetails({ scroll });
  writeUrl();
}

function clearSelection({ write }) {
  state.area = null;
  state.row = null;
  detailsToken += 1;
  setSelectionFilter();
  $('details').hidden = true;
  if (write) writeUrl();
}

async function loadDetails({ scroll = false } = {}) {
  const code = state.area;
  if (!code) return;
  const token = ++detailsToken;
  const panel = $('details');
  panel.hidden = false;
  panel.setAttribute('aria-busy', 'true');
  $('details-title').textContent = areaNames.get(code) || code;
  try {
    const table = await api('/api/table', {
      dataset: state.dataset, measure: state.measure, period: state.period, level: state.level, within: code,
    });
    if (token !== detailsToken) return;
    const row = (table.rows || []).find((r) => r.code === code) || null;
    state.row = row;
    renderDetails(code, row, table);
    if (scroll && window.innerWidth > 760) panel.scrollTop = 0;
  } catch (error) {
    if (token !== detailsToken) return;
    state.row = null;
    $('details-body').innerHTML = `<p class="warning">Could not load ${escapeHtml(code)}: ${escapeHtml(error.message)}</p>`;
  } finally {
    if (token === detailsToken) panel.removeAttribute('aria-busy');
  }
}

function classIndexOf(v) {
  const b = state.breaks;
  if (!b || v === null || v === undefined) return -1;
  for (let i = 0; i < b.breaks.length; i += 1) if (v <= b.breaks[i] + Math.max(1e-9, Math.abs(b.breaks[i]) * 1e-9)) return i;
  return b.breaks.length - 1;
}

function renderDetails(code, row, table) {
  const body = $('details-body');
  if (!row) {
    $('details-title').textContent = code;
    body.innerHTML = `<p>No ${escapeHtml(LEVEL_SHORT[state.level] || state.level)} with code ${escapeHtml(code)} in this table.</p>`;
    return;
  }
  $('details-title').textContent = row.name || code;
  const measure = currentMeasure();
  const disclosure = table.disclosure || {};
  const mapped = state.of === 'rate' ? row.rate_per_100_households : state.of === 'percent' ? row.percent : row.value;
  const status = row.suppressed ? 'Suppressed: too few to show' : row.missing ? 'No data for this area' : null;
  const index = status ? -1 : classIndexOf(mapped);
  const swatch = index >= 0 ? `<span class="swatch" style="background:${state.colours[index]}" aria-hidden="true"></span>` : '';

  const rows = [];
  const add = (label, html, field) => rows.push(`<dt>${escapeHtml(label)}</dt><dd${field ? ` data-field="${field}"` : ''}>${html}</dd>`);
  const dataset = currentDataset();
  const cellLevel = dataset ? dataset.level : state.level;
  const partial = partialText(row, cellLevel);
  const partialHtml = partial ? ` <span class="partial" data-field="partial">${escapeHtml(partial)}</span>` : '';
  add('Code', `<code>${escapeHtml(row.code)}</code>`, 'code');
  add('Geography', escapeHtml(LEVEL_SHORT[row.level] || row.level));
  if (measure && measure.kind === 'percent_only') {
    add(measure.title, `${row.percent === null || row.percent === undefined ? '–' : `${nf0.format(row.percent)}%`}${partialHtml}`, 'percent');
  } else {
    const v = row.value === null || row.value === undefined ? '–' : nf0.format(row.value);
    const u = row.uncertainty ? ` <span class="muted">± ${nf1.format(row.uncertainty)} from rounding</span>` : '';
    add(measure ? measure.title : 'Count', `<span class="num">${v}</span>${u}${partialHtml}`, 'value');
    if (measure && measure.denominator) {
      const rate = row.rate_per_100_households === null || row.rate_per_100_households === undefined ? '–' : nf2.format(row.rate_per_100_households);
      // The rate uses only the cells that have both a value and a household count (rule 8); say so when they differ.
      // rate_households: the households of the cells with a value (the rate's base), when it differs from the total.
      let basis = '';
      if (typeof row.rate_households === 'number' && row.rate_households !== row.households) {
        basis = `<br><span class="muted" data-field="rate-basis">Over the ${nf0.format(row.rate_households)} households of the ${escapeHtml(levelNoun(cellLevel))} with data.</span>`;
      } else if (table.rate_basis && typeof row.rate_households !== 'number' && (row.complete === false || row.households_complete === false)) {
        basis = `<br><span class="muted" data-field="rate-basis">${escapeHtml(capitalise(String(table.rate_basis).replace(/\.\s*$/, '')))}.</span>`;
      }
      add('Per 100 households', `<span class="num">${rate}</span>${basis}`, 'rate');
    }
  }
  const households = householdsText(row, cellLevel);
  add('Households', `<span class="num">${row.households === null || row.households === undefined ? 'not known' : nf0.format(row.households)}</span>` +
    (households ? ` <span class="partial" data-field="households-partial">${escapeHtml(households)}</span>` : ''), 'households');
  // Only for a sum of several cells: a single area's own row says nothing new here.
  if (row.cells > 1 || (row.cells && row.level !== cellLevel)) {
    const withValue = typeof row.cells_with_value === 'number' ? `${nf0.format(row.cells_with_value)} of ${nf0.format(row.cells)} with data` : nf0.format(row.cells);
    add(`${capitalise(levelNoun(cellLevel))} summed`, withValue, 'cells');
  }
  const parents = row.parents || {};
  for (const level of ['lsoa', 'msoa', 'lad']) {
    const parent = parents[level];
    if (!parent) continue;
    const parentCode = typeof parent === 'string' ? parent : parent.code;
    const name = (typeof parent === 'object' && parent.name) || areaNames.get(parentCode);
    add(LEVEL_SHORT[level], name ? `${escapeHtml(name)} <code>${escapeHtml(parentCode)}</code>` : `<code>${escapeHtml(parentCode)}</code>`, `parent-${level}`);
  }

  const rounding = roundingText(row, table.suggestion);
  const coarser = rounding ? coarserLevel() : null;
  const roundingHtml = rounding
    ? `<p class="warning" data-field="rounding-note" role="note">${escapeHtml(rounding)}${coarser
      ? ` <button type="button" class="link-button" data-level="${escapeHtml(coarser.id)}" data-parent="${escapeHtml(parentCode(row, coarser.id))}">Show by ${escapeHtml(coarser.short)}</button>` : ''}</p>`
    : '';

  body.innerHTML = `
    <div class="headline">
      ${swatch}
      <div>
        <div class="headline-value" data-field="mapped">${status ? escapeHtml(status) : escapeHtml(formatOf(state.of, mapped))}</div>
        <div class="headline-unit">${status ? `In ${escapeHtml(formatPeriod(table.period || state.period))}` : `${escapeHtml(unitPhrase(state.of, measure))}, ${escapeHtml(formatPeriod(table.period || state.period))}`}${partial ? ' <strong class="partial-flag">(partial)</strong>' : ''}</div>
      </div>
    </div>
    <dl class="facts">${rows.join('')}</dl>
    ${roundingHtml}
    <p class="disclosure-label" data-classification="${escapeHtml(disclosure.classification || '')}">${escapeHtml(disclosureLabel(disclosure, dataset))}</p>
    <p class="disclosure-rule">${escapeHtml(honestText(disclosure.rule || '', disclosure, dataset))}</p>`;
}

// The next level up that the dataset can be shown at (sums of more cells, so the rounding matters less), or null.
function coarserLevel() {
  const options = levelOptions(currentDataset());
  const i = options.findIndex((l) => l.id === state.level);
  return i >= 0 && i + 1 < options.length ? options[i + 1] : null;
}

function parentCode(row, level) {
  const parent = row && row.parents ? row.parents[level] : null;
  return (parent && (typeof parent === 'string' ? parent : parent.code)) || '';
}

// Show the map at `level` and, when known, select the area there that contains the one shown now.
function switchLevel(level, parent) {
  $('level').value = level;
  $('level').dispatchEvent(new Event('change'));
  if (parent) select(parent);
  $('level').focus(); // the button is re-rendered away; keep the keyboard user on the picker it changed
}

// ---------------------------------------------------------------------------------------------------------------
// Map

function bindMapEvents() {
  const tooltip = $('tooltip');
  map.on('mousemove', 'areas-fill', (event) => {
    const feature = event.features && event.features[0];
    if (!feature) return;
    map.getCanvas().style.cursor = 'pointer';
    if (feature.id !== hoveredId) {
      if (hoveredId !== null) map.setFeatureState({ source: 'areas', sourceLayer: state.level, id: hoveredId }, { hover: false });
      hoveredId = feature.id ?? null;
      if (hoveredId !== null) map.setFeatureState({ source: 'areas', sourceLayer: state.level, id: hoveredId }, { hover: true });
    }
    const p = feature.properties;
    const value = p.suppressed ? 'suppressed' : p.missing || p[state.of] === undefined ? 'no data' : formatOf(state.of, p[state.of]);
    tooltip.innerHTML = `<strong>${escapeHtml(p.name || p.code)}</strong><span>${escapeHtml(value)}</span>`;
    tooltip.hidden = false;
    const { x, y } = event.point;
    const width = map.getContainer().clientWidth;
    tooltip.style.transform = `translate(${Math.min(x + 14, width - 200)}px, ${y + 14}px)`;
  });
  map.on('mouseleave', 'areas-fill', () => {
    map.getCanvas().style.cursor = '';
    if (hoveredId !== null) map.setFeatureState({ source: 'areas', sourceLayer: state.level, id: hoveredId }, { hover: false });
    hoveredId = null;
    tooltip.hidden = true;
  });
  map.on('click', 'areas-fill', (event) => {
    const feature = event.features && event.features[0];
    if (!feature || !feature.properties.code) return;
    select(feature.properties.code, { scroll: true });
    // On wide screens the details card covers the map's top-left corner: nudge a clicked area out from under it.
    const card = 350;
    if (window.innerWidth > 760 && event.point.x < card + 20 && event.point.y < 480) map.panBy([-(card + 60 - event.point.x), 0]);
  });
  map.on('moveend', () => writeUrl());
}

async function addContextLayers(config) {
  if (config && config.basemap_url) {
    state.basemap = config.basemap_url;
    let host = '';
    try {
      host = new URL(config.basemap_url.replace(/[{}]/g, '')).hostname;
    } catch {
      host = 'basemap';
    }
    map.addSource('basemap', { type: 'raster', tiles: [config.basemap_url], tileSize: 256, attribution: `Basemap: ${escapeHtml(host)}` });
    map.addLayer({ id: 'basemap', type: 'raster', source: 'basemap' });
  }
  if (tileLevels.has('lad')) {
    map.addSource('lad', { type: 'vector', tiles: [tileTemplate('lad', false)], maxzoom: 16 });
    map.addLayer({
      id: 'lad-outline',
      type: 'line',
      source: 'lad',
      'source-layer': 'lad',
      paint: { 'line-color': '#1f2933', 'line-width': ['interpolate', ['linear'], ['zoom'], 8, 0.8, 14, 2.2], 'line-opacity': 0.8 },
    });
  }
}

function createMap(initialView, bounds) {
  const options = {
    container: 'map',
    style: {
      version: 8,
      sources: {},
      layers: [{ id: 'background', type: 'background', paint: { 'background-color': '#e9edf2' } }],
    },
    attributionControl: false,
    maxZoom: 16,
    hash: false,
    dragRotate: false,
    pitchWithRotate: false,
    fadeDuration: 0,
    transformRequest, // sends the partner key (auth.js) with tile requests
  };
  if (initialView) {
    options.center = [initialView.lng, initialView.lat];
    options.zoom = initialView.zoom;
  } else if (bounds) {
    options.bounds = bounds;
    options.fitBoundsOptions = { padding: 24 };
  } else {
    options.center = [-2.3, 53.45];
    options.zoom = 10;
  }
  map = new maplibregl.Map(options);
  window.smallareaMap = map;
  map.touchZoomRotate.disableRotation();
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
  map.addControl(new maplibregl.ScaleControl({ unit: 'metric' }), 'bottom-left');
  map.addControl(new maplibregl.AttributionControl({ compact: window.innerWidth < 720, customAttribution: BOUNDARY_ATTRIBUTION }), 'bottom-right');
  if (window.innerWidth < 720) {
    // On a phone the expanded attribution would cover a third of the map; it starts collapsed (the statement is
    // also printed under the map) and opens with the (i) button.
    map.once('load', () => {
      const attrib = map.getContainer().querySelector('.maplibregl-ctrl-attrib');
      if (attrib) {
        attrib.classList.remove('maplibregl-compact-show');
        attrib.removeAttribute('open');
      }
    });
  }
  map.on('error', (event) => {
    // Tile errors (e.g. a 400 for a level finer than the dataset) are shown once, not thrown.
    const message = event && event.error && event.error.message;
    if (message) console.warn('map error:', message);
  });
  return map;
}

window.smallareaIdle = function smallareaIdle(timeoutMs = 20000) {
  // Quiet = no fetch in flight, classes applied, style and every tile loaded, not moving; it must hold for 250 ms,
  // because a source added a moment ago has not yet asked for its tiles.
  const started = Date.now();
  let quietSince = null;
  return new Promise((resolve, reject) => {
    const check = () => {
      const quiet = state.ready && state.pending === 0 && mapReady && map.loaded() && map.areTilesLoaded() && !map.isMoving();
      if (!quiet) quietSince = null;
      else if (quietSince === null) quietSince = Date.now();
      if (quiet && Date.now() - quietSince >= 250) resolve(true);
      else if (Date.now() - started > timeoutMs) reject(new Error(`map not idle after ${timeoutMs} ms (pending=${state.pending}, ready=${state.ready})`));
      else setTimeout(check, 25);
    };
    check();
  });
};

// ---------------------------------------------------------------------------------------------------------------
// Start

async function applyWanted(wanted, { moveMap }) {
  const before = { dataset: state.dataset, measure: state.measure, period: state.period, level: state.level };
  normalise(wanted);
  renderPickers();
  const rebuild = ['dataset', 'measure', 'period', 'level'].some((k) => before[k] !== state[k]);
  if (moveMap && wanted.view && map) map.jumpTo({ center: [wanted.view.lng, wanted.view.lat], zoom: wanted.view.zoom });
  if (rebuild) refreshAreas();
  else refreshBreaks();
  if (wanted.area && wanted.area !== state.area) select(wanted.area);
  else if (!wanted.area && state.area) clearSelection({ write: false });
}

async function main() {
  bindPickers();
  const wanted = readUrl();
  let datasets;
  let config = {};
  try {
    const [d, c] = await Promise.all([api('/api/datasets'), api('/api/config').catch(() => ({}))]);
    datasets = d.datasets || [];
    config = c || {};
  } catch (error) {
    showStatus(`Could not reach the smallarea server: ${error.message}`);
    $('classification-badge').textContent = 'Offline';
    return;
  }
  catalog = datasets;
  window.smallareaCatalog = catalog; // bespoke.js reads dataset licences and coverage from it
  if (catalog.length === 0) {
    showStatus('No datasets have been ingested yet.');
    return;
  }
  // The server lists its boundary layers, so the map never probes for one that is not there (a 404 per load).
  try {
    const tileCatalog = await api('/tiles/catalog');
    for (const layer of tileCatalog.layers || []) tileLevels.add(layer.level);
  } catch {
    // An older server without /tiles/catalog: the map still works at the datasets' own levels.
    for (const d of catalog) tileLevels.add(d.level);
  }
  normalise(wanted);
  state.area = wanted.area || null;
  renderPickers();

  // Names of parent areas for the details panel (LADs always; LSOAs when the dataset is at OA level).
  const nameLevels = ['lad', ...(catalog.some((d) => d.level === 'oa') ? ['lsoa'] : [])];
  Promise.all(nameLevels.map((level) => api('/api/areas', { level }).catch(() => ({ areas: [] })))).then((results) => {
    for (const r of results) for (const a of r.areas || []) areaNames.set(a.code, a.name);
    if (state.row) loadDetails();
  });

  let bounds = null;
  if (!wanted.view) {
    try {
      const tilejson = await api(`/tiles/${state.level}.json`);
      if (tilejson && tilejson.bounds) bounds = [[tilejson.bounds[0], tilejson.bounds[1]], [tilejson.bounds[2], tilejson.bounds[3]]];
    } catch {
      bounds = null;
    }
  }
  createMap(wanted.view, bounds);
  map.on('load', async () => {
    map.addImage('hatch', hatchImage(), { pixelRatio: 2 });
    await addContextLayers(config);
    mapReady = true;
    bindMapEvents();
    refreshAreas();
    if (state.area) {
      setSelectionFilter();
      loadDetails();
    }
    writeUrl();
  });

  window.addEventListener('hashchange', () => {
    if (window.location.hash === lastWrittenHash) return;
    applyWanted(readUrl(), { moveMap: true });
  });
}

main().catch((error) => {
  console.error(error);
  showStatus(`The map failed to start: ${error.message}`);
});
