// The outlines the outreach tools draw over the choropleth: the bespoke selection and the target areas (lines on
// their own vector source at the map's level), the saved bespoke area's outline and the targets' fill (GeoJSON from
// the server). Their own sources, so map.js can rebuild the area layers freely; bespoke.js and targets.js set what
// is shown and call refreshOverlay.

import { boundarySource, getMap } from './map.js';
import { state } from './state.js';

const SEL_SOURCE = 'bespoke-sel';
const OUTLINE_SOURCE = 'bespoke-outline';
const TARGETS_SOURCE = 'targets-outline';

const overlay = {
  level: null, // the level SEL_SOURCE's tiles are at
  selected: [], // codes outlined as the bespoke selection
  targets: [], // codes outlined as target areas
};

export function setSelectedCodes(codes) {
  overlay.selected = codes;
}

export function setTargetCodes(codes) {
  overlay.targets = codes;
}

function ensureLayers(map, level) {
  if (overlay.level !== level) {
    for (const id of ['bespoke-sel-line', 'targets-line', 'targets-casing']) if (map.getLayer(id)) map.removeLayer(id);
    if (map.getSource(SEL_SOURCE)) map.removeSource(SEL_SOURCE);
    overlay.level = level;
  }
  if (!map.getSource(SEL_SOURCE)) {
    map.addSource(SEL_SOURCE, boundarySource(level));
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
    // The outline of the areas to walk (patches of OAs on LSOA-only data too, which the level's lines cannot draw):
    // a dark halo under a white line, legible over every class colour, the darkest blue and the palest yellow alike.
    map.addLayer({ id: 'targets-outline-casing', type: 'line', source: TARGETS_SOURCE, paint: { 'line-color': '#111827', 'line-width': 5 } });
    map.addLayer({ id: 'targets-outline-line', type: 'line', source: TARGETS_SOURCE, paint: { 'line-color': '#ffffff', 'line-width': 2 } });
  }
}

/// Brings the overlay layers to the map's level and outlines the selected and target codes (a no-op while the
/// style is loading; the 'styledata' event calls it again).
export function refreshOverlay() {
  const map = getMap();
  if (!map || !state.level || !map.isStyleLoaded()) return;
  ensureLayers(map, state.level);
  map.setFilter('bespoke-sel-line', ['in', ['get', 'code'], ['literal', overlay.selected]]);
  const targetFilter = ['in', ['get', 'code'], ['literal', overlay.targets]];
  map.setFilter('targets-line', targetFilter);
  map.setFilter('targets-casing', targetFilter);
}

function setGeojson(source, geometry) {
  const map = getMap();
  if (!map || !map.getSource(source)) return;
  map.getSource(source).setData(geometry ? { type: 'Feature', properties: {}, geometry } : { type: 'FeatureCollection', features: [] });
}

/// The saved bespoke area's outline (a GeoJSON geometry), or none.
export const showBespokeOutline = (geometry) => setGeojson(OUTLINE_SOURCE, geometry);

/// The target areas' outline (a GeoJSON geometry), filled, or none.
export const showTargetsOutline = (geometry) => setGeojson(TARGETS_SOURCE, geometry);
