// smallarea web map: a MapLibre choropleth of small-area statistics served by the smallarea server. This module
// starts it and wires the others together; each imports what it uses, and none reads a page global but
// maplibre.js (the vendored MapLibre build).
//
// It uses only the public HTTP API (/api/datasets, /api/table, /api/breaks, /api/areas, /api/config and the
// vector tiles under /tiles). Every value it shows has already been protected by the server (rounded, suppressed,
// percentage-only); the page never derives a volume the server did not send, and class breaks come from the server.
// The whole view lives in the URL hash (url_state.js), so a copied link reproduces it.
//
//   state.js      the view state and the catalog          api.js, auth.js   requests with the partner key; key form
//   url_state.js  the hash                                pickers.js        what to map, badge, credits
//   map.js        the map and its area layers             style.js          palette and fill expression
//   legend.js     classes from /api/breaks, coverage      details.js        the selected area's panel
//   bespoke.js, targets.js, zones.js, overlay.js: the outreach tools; text.js: the words the page says.
//   places.js     place search, its highlight, offline labels, the ward overlay

import { installDownloads, requestJson, requestsInFlight } from './api.js';
import { installKeyForm } from './auth.js';
import { bespoke, startBespoke } from './bespoke.js';
import { bindDetails, clearSelection, loadDetails, select } from './details.js';
import { $ } from './dom.js';
import { refreshBreaks, refreshPartial } from './legend.js';
import {
  addContextLayers, bindMapEvents, createMap, getMap, isMapReady, refreshAreas, setSelectionFilter, showStatus, whenMapReady,
} from './map.js';
import { bindPickers, renderPickers } from './pickers.js';
import { catalog, mappedViewChanged, normalise, state } from './state.js';
import { startTargets } from './targets.js';
import { isOwnHash, readUrl, writeUrl } from './url_state.js';
import { bindSearch, places, startPlaces } from './places.js';
import { series } from './series.js';
import { bindSheet, sheet } from './sheet.js';
import { bindViewTable, viewTable } from './view_table.js';
import { startZones, zones } from './zones.js';

// Changing one of these redraws the areas (new tiles); the others only reclassify them.
const REDRAWS = new Set(['dataset', 'measure', 'period', 'level', 'vintage', 'compare']);

// Draws the mapped dataset/measure/period/level, its classes and partial count, and tells the bespoke card.
function redraw() {
  if (!refreshAreas()) return;
  refreshBreaks();
  refreshPartial();
  mappedViewChanged();
}

function onPickerChange(key, value) {
  const wanted = { ...state, [key]: value };
  if (key === 'dataset') {
    // Keep the measure/period only if the new dataset has them; level falls back to the dataset's own.
    wanted.level = null;
    wanted.of = null;
  }
  if (key === 'measure') wanted.of = null;
  // Another geography or dataset starts from the data's own boundaries (wards move to the vintage they exist on);
  // only the Boundaries picker itself, or a link, asks for others.
  if (key === 'level' || key === 'dataset') wanted.vintage = null;
  normalise(wanted);
  if (key === 'dataset' || key === 'level') clearSelection({ write: false });
  renderPickers();
  if (REDRAWS.has(key)) redraw();
  else refreshBreaks();
  if (state.area) loadDetails();
  writeUrl();
}

// A hash the user edited (or a link opened in the same tab): go to the view it names.
function applyWanted(wanted, { moveMap }) {
  const before = { dataset: state.dataset, measure: state.measure, period: state.period, level: state.level, vintage: state.vintage, compare: state.compare };
  normalise(wanted);
  renderPickers();
  const changed = [...REDRAWS].some((k) => before[k] !== state[k]);
  const map = getMap();
  if (moveMap && wanted.view && map) map.jumpTo({ center: [wanted.view.lng, wanted.view.lat], zoom: wanted.view.zoom });
  if (changed) redraw();
  else refreshBreaks();
  if (wanted.area && wanted.area !== state.area) select(wanted.area);
  else if (!wanted.area && state.area) clearSelection({ write: false });
}

// Resolves once the page is quiet: no API request in flight, classes applied, the outreach tools started, style and
// every tile loaded, not moving. It must hold for 250 ms, because a source added a moment ago has not yet asked for
// its tiles.
function idle(timeoutMs = 20000) {
  const started = Date.now();
  let quietSince = null;
  return new Promise((resolve, reject) => {
    const check = () => {
      const map = getMap();
      const quiet = state.ready && requestsInFlight() === 0 && bespoke.started && zones.started && isMapReady() &&
        map.loaded() && map.areTilesLoaded() && !map.isMoving();
      if (!quiet) quietSince = null;
      else if (quietSince === null) quietSince = Date.now();
      if (quiet && Date.now() - quietSince >= 250) resolve(true);
      else if (Date.now() - started > timeoutMs) {
        reject(new Error(`map not idle after ${timeoutMs} ms (requests in flight=${requestsInFlight()}, ready=${state.ready}, ` +
          `tools started=${bespoke.started && zones.started})`));
      } else setTimeout(check, 25);
    };
    check();
  });
}

// The one global the page sets, for the browser tests only (tests/browser/harness.mjs): they must look inside the
// WebGL map (rendered features, feature-state, filters) and the tools' state, and wait until the page is quiet,
// none of which the DOM shows. No module reads it: everything else goes by explicit imports.
window.__smallareaTest = Object.freeze({
  get map() { return getMap(); },
  state,
  bespoke,
  zones,
  series,
  sheet,
  viewTable,
  places,
  idle,
});

async function main() {
  installKeyForm();
  installDownloads();
  bindPickers(onPickerChange);
  bindDetails();
  bindViewTable((code) => select(code));
  bindSheet();
  bindSearch();
  const wanted = readUrl();
  let config = {};
  try {
    const [d, c] = await Promise.all([requestJson('/api/datasets'), requestJson('/api/config').catch(() => ({}))]);
    catalog.datasets = d.datasets || [];
    config = c || {};
  } catch (error) {
    showStatus(`Could not reach the smallarea server: ${error.message}`);
    $('classification-badge').textContent = 'Offline';
    return;
  }
  if (catalog.datasets.length === 0) {
    showStatus('No datasets have been ingested yet.');
    return;
  }
  // The server lists its boundary layers, so the map never probes for one that is not there (a 404 per load).
  try {
    const tileCatalog = await requestJson('/tiles/catalog');
    for (const layer of tileCatalog.layers || []) {
      catalog.tileLevels.add(layer.level);
      catalog.tileLayers.add(`${layer.level}:${layer.vintage}`);
      // An archive of the level's default boundaries (what a request without vintage gets, and so what the
      // datasets are mapped on): geometry from it, figures from /api/values (map.js).
      if (layer.pmtiles && (layer.default ?? layer.latest)) catalog.archives.set(layer.level, layer.pmtiles);
    }
  } catch {
    // An older server without /tiles/catalog: the map still works at the datasets' own levels.
    for (const d of catalog.datasets) catalog.tileLevels.add(d.level);
  }
  normalise(wanted);
  state.area = wanted.area || null;
  state.bespoke = wanted.bespoke || null; // bespoke.js opens it once the map is ready; the hash keeps it meanwhile
  state.targets = wanted.targets || null; // targets.js and zones.js run a shared link's search once they start
  state.zones = wanted.zones || null;
  state.wards = wanted.wards === '1'; // places.js turns the overlay on once the map has loaded
  renderPickers();

  // Names of parent areas for the details panel (LADs always; LSOAs when a dataset is at OA level).
  const nameLevels = ['lad', ...(catalog.datasets.some((d) => d.level === 'oa') ? ['lsoa'] : [])];
  Promise.all(nameLevels.map((level) => requestJson('/api/areas', { params: { level } }).catch(() => ({ areas: [] })))).then((results) => {
    for (const r of results) for (const a of r.areas || []) catalog.areaNames.set(a.code, a.name);
    if (state.row) loadDetails();
  });

  let bounds = null;
  if (!wanted.view) {
    try {
      const tilejson = await requestJson(`/tiles/${state.level}.json`);
      if (tilejson && tilejson.bounds) bounds = [[tilejson.bounds[0], tilejson.bounds[1]], [tilejson.bounds[2], tilejson.bounds[3]]];
    } catch {
      bounds = null;
    }
  }
  const map = createMap(wanted.view, bounds);
  map.on('load', () => {
    addContextLayers(config);
    startPlaces(map);
    bindMapEvents({ onAreaClick: (code) => select(code, { scroll: true }), onMoveEnd: () => writeUrl() });
    redraw();
    if (state.area) {
      setSelectionFilter();
      loadDetails();
    }
    writeUrl();
  });
  // The outreach tools add their layers above the choropleth's, so they start once its first classes are in.
  whenMapReady((readyMap) => {
    // Fit the bespoke area only when the link gave no map view (the hash has map= by now: writeUrl added it).
    startBespoke(readyMap, wanted.bespoke || null, { fit: !wanted.view });
    startTargets();
    startZones(readyMap);
  });

  window.addEventListener('hashchange', () => {
    if (isOwnHash(window.location.hash)) return;
    applyWanted(readUrl(), { moveMap: true });
  });
}

main().catch((error) => {
  console.error(error);
  showStatus(`The map failed to start: ${error.message}`);
});
