// The one view state of the map, the catalog it is chosen from, and a notification when the mapped view changes.
//
// `state` is a plain object (the browser tests copy it out of the page): every field the URL carries is a top-level
// field (url_state.js reads and writes them), the rest is derived from the server's answers and read-only outside the
// module that sets it. `catalog` is what the server offers, filled once at start by main.js.

// Coarsest last. A dataset can be shown at its own level or any coarser level that has boundaries.
export const LEVELS = [
  { id: 'oa', label: 'Output Areas (OA)', short: 'OA' },
  { id: 'lsoa', label: 'Lower layer Super Output Areas (LSOA)', short: 'LSOA' },
  { id: 'msoa', label: 'Middle layer Super Output Areas (MSOA)', short: 'MSOA' },
  { id: 'ward', label: 'Electoral wards (best fit of LSOAs)', short: 'Ward (best fit)' },
  { id: 'lad', label: 'Local authority districts (LAD)', short: 'Local authority' },
];
export const LEVEL_SHORT = { oa: 'Output Area', lsoa: 'LSOA', msoa: 'MSOA', ward: 'Ward', lad: 'Local authority' };

export const state = {
  // In the URL.
  dataset: null,
  measure: null,
  period: null,
  level: null,
  vintage: null, // boundary vintage of the map when not the dataset's own (a crosswalk moves the data there), else null
  of: null,
  method: 'quantile',
  classes: 5,
  view: null, // {zoom, lat, lng}
  area: null, // selected area code
  bespoke: null, // the saved bespoke area shown (bespoke.js)
  compare: null, // change map (#17): the period the mapped one is compared with, or null for a one-period map
  targets: null, // the target finder's last search {min, max, limit}, restored from the URL (targets.js)
  zones: null, // the zone builder's last parameters {within, min, max, limit, contiguity} (zones.js)
  wards: false, // the ward outlines overlay is on (places.js)
  // Derived.
  classification: null,
  breaks: null, // the /api/breaks answer for the view (legend.js)
  colours: null, // one per class, from style.js
  row: null, // the selected area's /api/table row (details.js)
  partial: null, // {key, level, rows, partial}: partial sums on a coarser level (legend.js refreshPartial)
  values: null, // archive mode: {token, release, count, breaks} of the /api/values answer set as feature-state (map.js)
  ready: false, // classes applied at least once
  error: null,
};

export const catalog = {
  datasets: [], // /api/datasets
  tileLevels: new Set(), // levels with boundaries (/tiles/catalog)
  tileLayers: new Set(), // "level:vintage" of every boundary layer (/tiles/catalog)
  archives: new Map(), // level -> URL of its PMTiles boundary archive, when the server has one (/tiles/catalog)
  areaNames: new Map(), // code -> name, for parent areas
};

export const currentDataset = () => catalog.datasets.find((d) => d.id === state.dataset) || null;
export const currentMeasure = () => {
  const d = currentDataset();
  return d ? d.measures.find((m) => m.id === state.measure) || null : null;
};
const levelIndex = (id) => LEVELS.findIndex((l) => l.id === id);

/// What the mapped table is: its figures change when any of these does.
export const viewKey = () => [state.dataset, state.measure, state.period, state.level, state.vintage || '', state.compare || ''].join('|');

/// The vintages a dataset's measure can be mapped on: its own, and for counts those a crosswalk reaches
/// (/api/datasets `vintages`; percentage-only measures never move).
export function vintagesFor(dataset, measure) {
  if (!dataset) return [];
  if (measure && measure.kind === 'percent_only') return [dataset.vintage];
  return dataset.vintages && dataset.vintages.length ? dataset.vintages : [dataset.vintage];
}

/// The vintage a level is mapped on: `preferred` when the level has boundaries there, else the dataset's own, else
/// another vintage the data reaches (wards exist on 2021 only; 2011 LSOA data gets there through the crosswalk).
/// null when the level has boundaries on none of them.
export function levelVintage(dataset, measure, level, preferred) {
  if (!dataset) return null;
  const vintages = vintagesFor(dataset, measure);
  if (catalog.tileLayers.size === 0) return level === dataset.level || catalog.tileLevels.has(level) ? dataset.vintage : null;
  const candidates = [preferred, dataset.vintage, ...vintages].filter((v) => v && vintages.includes(v));
  return candidates.find((v) => catalog.tileLayers.has(`${level}:${v}`)) ?? null;
}

/// { vintage } for requests about the mapped view when it is not on the dataset's own boundaries, else {}.
export const vintageParams = () => (state.vintage ? { vintage: String(state.vintage) } : {});

// In a change map the tiles carry the change as its own properties (server/routes_tiles.cpp, compare=PERIOD).
const CHANGE_PROPERTY = { rate: 'change_rate', value: 'change', percent: 'change_percent' };
/// The tile property the map colours: the mapped quantity, or its change since state.compare.
export const mappedProperty = () => (state.compare ? CHANGE_PROPERTY[state.of] || 'change' : state.of);
/// The field of an /api/table row's `change` object that goes with state.of.
export const CHANGE_FIELD = { rate: 'rate_per_100_households', value: 'value', percent: 'percent' };

export function ofOptions(measure) {
  if (!measure) return [];
  if (measure.kind === 'percent_only') return ['percent'];
  return measure.denominator ? ['rate', 'value'] : ['value'];
}

export function levelOptions(dataset) {
  if (!dataset) return [];
  const from = levelIndex(dataset.level);
  const measure = dataset.id === state.dataset ? currentMeasure() : null;
  return LEVELS.filter((l, i) => {
    if (from < 0 ? l.id !== dataset.level : i < from) return false;
    // MSOAs straddle wards (the server says NotNested); percentages are not served on best-fit wards.
    if (l.id === 'ward' && (dataset.level === 'msoa' || (measure && measure.kind === 'percent_only'))) return false;
    return l.id === dataset.level || levelVintage(dataset, measure, l.id, state.vintage) !== null;
  });
}

/// The next level up that the dataset can be shown at (sums of more cells, so the rounding matters less), or null.
export function coarserLevel() {
  // On the same boundaries only: a level reached through a crosswalk holds estimates, no remedy for rounding.
  const dataset = currentDataset();
  const own = state.vintage || (dataset ? dataset.vintage : null);
  const options = levelOptions(dataset).filter((l) => levelVintage(dataset, currentMeasure(), l.id, own) === own);
  const i = options.findIndex((l) => l.id === state.level);
  return i >= 0 && i + 1 < options.length ? options[i + 1] : null;
}

/// Brings a wanted view (from the URL or a picker) to the nearest valid one.
export function normalise(wanted) {
  const dataset = catalog.datasets.find((d) => d.id === wanted.dataset) || catalog.datasets[0];
  if (!dataset) return;
  state.dataset = dataset.id;
  const measure = dataset.measures.find((m) => m.id === wanted.measure) || dataset.measures[0];
  state.measure = measure ? measure.id : null;
  const periods = dataset.periods || [];
  state.period = periods.includes(wanted.period) ? wanted.period : periods[periods.length - 1] || null;
  const wantedVintage = Number.parseInt(wanted.vintage, 10) || null;
  state.vintage = wantedVintage;
  const levels = levelOptions(dataset).map((l) => l.id);
  state.level = levels.includes(wanted.level) ? wanted.level : dataset.level;
  const vintage = levelVintage(dataset, measure, state.level, wantedVintage) ?? dataset.vintage;
  state.vintage = vintage === dataset.vintage ? null : vintage;
  const ofs = ofOptions(measure);
  state.of = ofs.includes(wanted.of) ? wanted.of : ofs[0] || null;
  state.method = ['quantile', 'jenks', 'equal'].includes(wanted.method) ? wanted.method : 'quantile';
  const classes = Number.parseInt(wanted.classes, 10);
  state.classes = classes >= 3 && classes <= 9 ? classes : 5;
  // A change map compares with another period of the same dataset (never the mapped period itself).
  state.compare = periods.includes(wanted.compare) && wanted.compare !== state.period ? wanted.compare : null;
  state.classification = dataset.classification;
}

// The mapped dataset/measure/period/level changed and the map redrew it: the bespoke card recomputes its totals.
const viewListeners = new Set();
export function onMappedViewChange(listener) {
  viewListeners.add(listener);
}
export function mappedViewChanged() {
  for (const listener of viewListeners) listener(state);
}
