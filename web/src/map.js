// The MapLibre map: created once by main.js, with the basemap (if configured) and district outlines as context, and
// the choropleth's area layers, rebuilt for each dataset/measure/period/level. Vector tiles come from /tiles with the
// protected figures as attributes; the partner key goes with them through api.js's transformRequest. When the
// server has a PMTiles archive of the level (catalog.archives), the shapes come from it instead (code/name only,
// cacheable forever) and the figures from /api/values as feature-state keyed by code (promoteId): geometry from a
// static archive, values from the API. Change maps keep /tiles (their change properties are per tile).

import { requestJson, transformRequest } from './api.js';
import { $ } from './dom.js';
import maplibregl from './maplibre.js';
import { currentDataset, catalog, mappedProperty, state, vintageParams } from './state.js';
import { pmtilesSourceUrl } from './pmtiles.js';
import { changeFillColour, dotsImage, fillColour, hatchImage, stateFillColour } from './style.js';
import { BOUNDARY_ATTRIBUTION, escapeHtml, formatOf, formatPeriod, honestText, signed } from './text.js';

const AREA_LAYERS = ['areas-fill', 'areas-hatch', 'areas-nochange', 'areas-outline', 'areas-hover', 'areas-selected-casing', 'areas-selected'];

let map = null;
let mapReady = false; // set once the style has loaded and the context layers are in
let basemapShown = false;
let hoveredId = null;
let archiveMode = false; // the area layers read an archive and feature-state (refreshAreas)
let valuesToken = 0;
let valuesKey = ''; // the view and classing the last /api/values request was for
const classingKey = () => [state.dataset, state.measure, state.period, state.level, state.classes, state.method, state.of].join('|');

/// Whether the mapped areas come from a PMTiles archive with figures as feature-state.
export const usesArchive = () => archiveMode;

/// The maplibregl.Map, or null before main.js creates it.
export const getMap = () => map;
export const isMapReady = () => mapReady;

/// The map's current {zoom, lat, lng}, or null before it exists.
export function mapView() {
  if (!map) return null;
  const c = map.getCenter();
  return { zoom: map.getZoom(), lat: c.lat, lng: c.lng };
}

/// The vector tile URL template of a level; with the mapped dataset, measure and period when `withData`.
export function tileTemplate(level, withData) {
  // Built by hand: new URL() would percent-encode the {z}/{x}/{y} placeholders.
  let template = `${window.location.origin}/tiles/${encodeURIComponent(level)}/{z}/{x}/{y}.mvt`;
  if (withData) {
    const q = new URLSearchParams({ dataset: state.dataset, measure: state.measure, period: state.period, ...vintageParams() });
    if (state.compare) q.set('compare', state.compare); // change map: the tiles carry change, change_rate, ...
    template += `?${q}`;
  } else if (state.vintage && level === state.level) {
    template += `?vintage=${encodeURIComponent(state.vintage)}`; // the mapped level's outlines on the same boundaries
  }
  return template;
}

/// A source of a level's bare boundaries (code/name, no figures): its PMTiles archive when the server has one (the
/// same bytes for every dataset, cached by the browser across views), else /tiles without a dataset.
export function boundarySource(level) {
  const archive = state.vintage && level === state.level ? null : catalog.archives.get(level);
  return archive ? { type: 'vector', url: pmtilesSourceUrl(archive) } : { type: 'vector', tiles: [tileTemplate(level, false)], maxzoom: 16 };
}

export function showStatus(message) {
  const el = $('map-status');
  el.hidden = !message;
  el.textContent = message || '';
}

export function createMap(initialView, bounds) {
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
    transformRequest, // sends the partner key with tile requests
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

/// Once the style has loaded: the hatch pattern and the context layers (basemap from /api/config, district outlines).
export function addContextLayers(config) {
  map.addImage('hatch', hatchImage(), { pixelRatio: 2 });
  map.addImage('dots', dotsImage(), { pixelRatio: 2 });
  if (config && config.basemap_url) {
    basemapShown = true;
    let host = '';
    try {
      host = new URL(config.basemap_url.replace(/[{}]/g, '')).hostname;
    } catch {
      host = 'basemap';
    }
    map.addSource('basemap', { type: 'raster', tiles: [config.basemap_url], tileSize: 256, attribution: `Basemap: ${escapeHtml(host)}` });
    map.addLayer({ id: 'basemap', type: 'raster', source: 'basemap' });
  }
  if (catalog.tileLevels.has('lad')) {
    map.addSource('lad', boundarySource('lad'));
    map.addLayer({
      id: 'lad-outline',
      type: 'line',
      source: 'lad',
      'source-layer': 'lad',
      paint: { 'line-color': '#1f2933', 'line-width': ['interpolate', ['linear'], ['zoom'], 8, 0.8, 14, 2.2], 'line-opacity': 0.8 },
    });
  }
  mapReady = true;
}

/// Hover outline and tooltip; `onAreaClick(code, event)` for a click on an area, `onMoveEnd()` after a pan or zoom.
export function bindMapEvents({ onAreaClick, onMoveEnd }) {
  const tooltip = $('tooltip');
  const setHover = (id, hover) => map.setFeatureState({ source: 'areas', sourceLayer: state.level, id }, { hover });
  map.on('mousemove', 'areas-fill', (event) => {
    const feature = event.features && event.features[0];
    if (!feature) return;
    map.getCanvas().style.cursor = 'pointer';
    if (feature.id !== hoveredId) {
      if (hoveredId !== null) setHover(hoveredId, false);
      hoveredId = feature.id ?? null;
      if (hoveredId !== null) setHover(hoveredId, true);
    }
    // In archive mode the figures are the feature-state /api/values set, not tile properties.
    const p = archiveMode ? { ...feature.properties, ...map.getFeatureState({ source: 'areas', sourceLayer: state.level, id: feature.id }) } : feature.properties;
    const prop = mappedProperty();
    let value = p.suppressed ? 'suppressed' : p.missing || p[prop] === undefined ? (state.compare ? 'no comparable data' : 'no data') : formatOf(state.of, p[prop]);
    if (state.compare && p[prop] !== undefined && !p.suppressed) {
      value = p.no_change_within_rounding ? `no change within rounding (${signed(state.of, p[prop])})` : `${signed(state.of, p[prop])} since ${formatPeriod(state.compare)}`;
    }
    tooltip.innerHTML = `<strong>${escapeHtml(p.name || p.code)}</strong><span>${escapeHtml(value)}</span>`;
    tooltip.hidden = false;
    const { x, y } = event.point;
    const width = map.getContainer().clientWidth;
    tooltip.style.transform = `translate(${Math.min(x + 14, width - 200)}px, ${y + 14}px)`;
  });
  map.on('mouseleave', 'areas-fill', () => {
    map.getCanvas().style.cursor = '';
    if (hoveredId !== null) setHover(hoveredId, false);
    hoveredId = null;
    tooltip.hidden = true;
  });
  map.on('click', 'areas-fill', (event) => {
    const feature = event.features && event.features[0];
    if (!feature || !feature.properties.code) return;
    onAreaClick(feature.properties.code);
    // On wide screens the details card covers the map's top-left corner: nudge a clicked area out from under it.
    const card = 350;
    if (window.innerWidth > 760 && event.point.x < card + 20 && event.point.y < 480) map.panBy([-(card + 60 - event.point.x), 0]);
  });
  map.on('moveend', onMoveEnd);
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

/// Rebuilds the area layers for the mapped dataset/measure/period/level; false (nothing drawn) before the map is
/// ready or without a dataset.
export function refreshAreas() {
  // Not map.isStyleLoaded(): that is false while any source is still fetching tiles, which would drop a change.
  if (!map || !mapReady) return false;
  const dataset = currentDataset();
  if (!dataset) return false;
  removeAreaLayers();
  const level = state.level;
  // Archives hold the default boundaries only: a map moved to other boundaries (state.vintage) uses /tiles.
  const archive = state.compare || state.vintage ? null : catalog.archives.get(level);
  archiveMode = Boolean(archive);
  const attribution = escapeHtml(datasetAttribution(dataset));
  if (archive) {
    // promoteId: the archive's `code` is the feature id, so /api/values' codes address feature-state directly.
    map.addSource('areas', { type: 'vector', url: pmtilesSourceUrl(archive), promoteId: 'code', attribution });
  } else {
    map.addSource('areas', { type: 'vector', tiles: [tileTemplate(level, true)], minzoom: 0, maxzoom: 16, attribution });
  }
  const before = map.getLayer('lad-outline') ? 'lad-outline' : undefined;
  const common = { source: 'areas', 'source-layer': level };
  map.addLayer({ id: 'areas-fill', type: 'fill', ...common, paint: { 'fill-color': classColours(), 'fill-opacity': basemapShown ? 0.78 : 1 } }, before);
  if (archive) {
    // A layer filter cannot read feature-state, so the hatch shows through its opacity instead.
    map.addLayer({ id: 'areas-hatch', type: 'fill', ...common, paint: { 'fill-pattern': 'hatch',
      'fill-opacity': ['case', ['boolean', ['feature-state', 'suppressed'], false], 1, 0] } }, before);
  } else {
    map.addLayer({ id: 'areas-hatch', type: 'fill', ...common, filter: ['==', ['get', 'suppressed'], true], paint: { 'fill-pattern': 'hatch' } }, before);
  }
  // A change map's "no change within rounding" class: neutral grey under dots, its own entry in the legend.
  map.addLayer({ id: 'areas-nochange', type: 'fill', ...common, filter: ['==', ['get', 'no_change_within_rounding'], true],
    layout: { visibility: state.compare ? 'visible' : 'none' }, paint: { 'fill-pattern': 'dots' } }, before);
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
  if (archive) loadValues();
  return true;
}

/// Archive mode: fetches /api/values for the view (the classes, method and quantity the legend's /api/breaks uses,
/// so both class alike) and sets each area's figures and class as feature-state; the last call wins.
export async function loadValues() {
  if (!archiveMode) return;
  const token = ++valuesToken;
  const view = { level: state.level };
  valuesKey = classingKey();
  const values = await requestJson('/api/values', {
    params: { dataset: state.dataset, measure: state.measure, period: state.period, level: state.level,
      classes: state.classes, method: state.method, of: state.of },
  }).catch((error) => {
    showStatus(`Could not load the figures: ${error.message}`);
    return null;
  });
  if (!values || token !== valuesToken || !archiveMode || !map.getSource('areas') || view.level !== state.level) return;
  const flagged = (name) => new Set(values[name] || []);
  const suppressed = flagged('suppressed');
  const missing = flagged('missing');
  const estimated = flagged('estimated');
  const withheld = flagged('not_apportioned');
  const figures = ['value', 'rate', 'percent'].filter((k) => Array.isArray(values[k]));
  for (let i = 0; i < values.codes.length; i += 1) {
    const fs = { class: values.class[i], suppressed: suppressed.has(i), missing: missing.has(i) || withheld.has(i), estimated: estimated.has(i) };
    for (const k of figures) fs[k] = values[k][i] ?? undefined;
    map.setFeatureState({ source: 'areas', sourceLayer: values.level, id: values.codes[i] }, fs);
  }
  state.values = { token, release: values.release, count: values.codes.length, breaks: values.breaks };
}

// The fill expression for state.breaks; state.colours follows it (the legend and the area panel use the colours).
function classColours() {
  const { expression, colours } = state.compare && state.breaks && state.breaks.change
    ? changeFillColour(mappedProperty(), state.breaks)
    : archiveMode ? stateFillColour(state.breaks) : fillColour(state.of, state.compare ? null : state.breaks);
  state.colours = colours;
  return expression;
}

/// Colours the areas by the current state.breaks (after new breaks arrive).
export function applyClasses() {
  const expression = classColours();
  if (map && map.getLayer('areas-fill')) map.setPaintProperty('areas-fill', 'fill-color', expression);
  // The classes are /api/values' own: new breaks (classes, method, quantity) need its classes of them.
  // (also when the classing changed while a request for the old one was in flight: the last call wins).
  if (archiveMode && valuesKey !== classingKey()) loadValues();
}

/// Outlines the selected area (state.area), or none.
export function setSelectionFilter() {
  if (!map) return;
  const filter = ['==', ['get', 'code'], state.area || ''];
  for (const id of ['areas-selected-casing', 'areas-selected']) if (map.getLayer(id)) map.setFilter(id, filter);
}

/// Calls fn(map) once the map has loaded its style and the first classes are applied (the outreach tools add their
/// layers above the choropleth's then).
export function whenMapReady(fn) {
  if (!map || !state.ready || !map.isStyleLoaded()) {
    setTimeout(() => whenMapReady(fn), 100);
    return;
  }
  fn(map);
}
