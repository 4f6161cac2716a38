// Words the map shows about what a figure is: the licence label, coverage ("382 of 420 LSOAs have data"), partial
// aggregates and rounding that dominates a figure. Shared by every module of the map; pure functions, no DOM.
//
// Every helper accepts a response from an older server that lacks the field it reads and then says nothing (returns
// '' or null) rather than guessing: unknown is never shown as complete, and complete is never claimed.

export const LEVEL_NOUN = {
  oa: ['Output Area', 'Output Areas'],
  lsoa: ['LSOA', 'LSOAs'],
  msoa: ['MSOA', 'MSOAs'],
  lad: ['local authority', 'local authorities'],
  bespoke: ['bespoke area', 'bespoke areas'],
};

export function levelNoun(level, n = 2) {
  const nouns = LEVEL_NOUN[level] || ['area', 'areas'];
  return n === 1 ? nouns[0] : nouns[1];
}

export const capitalise = (s) => (s ? s[0].toUpperCase() + s.slice(1) : s);

export function escapeHtml(text) {
  return String(text ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

const nf0 = new Intl.NumberFormat('en-GB', { maximumFractionDigits: 0 });
const nf2 = new Intl.NumberFormat('en-GB', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
export const formatCount = (v) => (v === null || v === undefined || Number.isNaN(v) ? '–' : nf0.format(v));
export const formatRate = (v) => (v === null || v === undefined || Number.isNaN(v) ? '–' : nf2.format(v));
const nf1 = new Intl.NumberFormat('en-GB', { maximumFractionDigits: 1 });
// A rounding bound is often a half (n cells x base/2): 2.5 stays 2.5, never "3".
export const formatBound = (v) => (v === null || v === undefined || Number.isNaN(v) ? '–' : nf1.format(v));

// The boundaries (ONS, OGL) are on every map whatever the dataset; each dataset's own attribution and licence come
// from /api/datasets and go with its layer (a dataset is not necessarily under the OGL).
export const BOUNDARY_ATTRIBUTION =
  'Boundaries: ONS, Open Government Licence v3.0. ' +
  'Contains OS data © Crown copyright and database right.';

/// A mapped figure as shown: "12%" for percent, "1.23" for a rate per 100 households, "1,230" for a count.
export function formatOf(of, v) {
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  if (of === 'percent') return `${nf0.format(v)}%`;
  if (of === 'rate') return nf2.format(v);
  return nf0.format(v);
}

/// A change as shown, with its sign: "+12", "−0.35", "+3 points" (percent), "0".
export function signed(of, v) {
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  const text = of === 'percent' ? `${nf0.format(Math.abs(v))} points` : of === 'rate' ? nf2.format(Math.abs(v)) : nf0.format(Math.abs(v));
  return `${v > 0 ? '+' : v < 0 ? '−' : ''}${text}`;
}

/// What the mapped figure counts, for the legend and the area panel ("claimants per 100 households").
export function unitPhrase(of, measure) {
  if (of === 'rate') return `${measure ? measure.title.toLowerCase() : 'people'} per 100 households`;
  if (of === 'percent') return measure && measure.percent_of ? `% of ${measure.percent_of.replace(/_/g, ' ')}` : 'per cent';
  return measure ? `${measure.unit || 'count'} (rounded count)` : 'count';
}

export function formatPeriod(period) {
  const m = /^(\d{4})-(\d{2})$/.exec(period || '');
  if (!m) return period || '';
  const date = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, 1));
  return date.toLocaleDateString('en-GB', { month: 'long', year: 'numeric', timeZone: 'UTC' });
}

// ---------------------------------------------------------------------------------------------------------------
// Licence labels. A published dataset is "Published (LICENCE)" from its own licence; it is never "public domain"
// (it is not: OGL data carries an attribution duty). Servers before the licence-based labels said "Published data
// (public domain)"; those words are replaced here so they never reach the page.

export function publishedLabel(dataset) {
  const licence = dataset && dataset.licence ? dataset.licence : '';
  return licence ? `Published (${licence})` : 'Published (see the dataset licence)';
}

/// The label to show for a disclosure block (datasets, tables, breaks, targets) of `dataset` (for its licence).
export function disclosureLabel(disclosure, dataset) {
  if (!disclosure) return '';
  const label = disclosure.label || '';
  if (disclosure.classification === 'published' && (!label || /public domain/i.test(label))) return publishedLabel(dataset);
  return label.replace(/public domain/gi, 'published');
}

/// Any server text (a disclosure rule, a note) with an old "public domain" label replaced by the licence label.
export function honestText(text, disclosure, dataset) {
  const label = disclosureLabel(disclosure, dataset) || publishedLabel(dataset);
  return String(text ?? '')
    .replace(/Published data \(public domain\)/gi, label)
    .replace(/\(public domain\)/gi, dataset && dataset.licence ? `(${dataset.licence})` : '')
    .replace(/public domain/gi, 'published');
}

// ---------------------------------------------------------------------------------------------------------------
// Coverage of a period (dataset.coverage, one entry per period at the dataset's own level).

export const COMPLETE_SHARE = 0.95; // the server's threshold for latest_complete_period

export function periodCoverage(dataset, period) {
  if (!dataset || !Array.isArray(dataset.coverage)) return null;
  const c = dataset.coverage.find((x) => x.period === period);
  if (!c || typeof c.share !== 'number') return null;
  return c;
}

export function percentOf(share) {
  // Never round 99.6% up to "100%": a period said to be complete must be complete.
  const p = share * 100;
  return p >= 100 ? '100%' : p > 99 ? `${Math.floor(p)}%` : `${Math.round(p)}%`;
}

/// "October 2017: 91% of LSOAs have data (382 of 420)", or '' when the coverage is not known.
export function periodCoverageText(dataset, period) {
  const c = periodCoverage(dataset, period);
  if (!c) return '';
  const noun = levelNoun(dataset.level);
  if (c.areas_with_value >= c.areas) return `${formatPeriod(period)}: all ${formatCount(c.areas)} ${noun} have data`;
  return `${formatPeriod(period)}: ${percentOf(c.share)} of ${noun} have data (${formatCount(c.areas_with_value)} of ${formatCount(c.areas)})`;
}

// ---------------------------------------------------------------------------------------------------------------
// A row of /api/table (an area, an aggregate, the total, a bespoke area).

/// "partial: 244 of 282 LSOAs have data" for an aggregate that does not cover all its cells, else ''.
export function partialText(row, cellLevel) {
  // A single area without data is "no data", said by the headline, not a partial sum of itself.
  if (!row || row.complete !== false || row.cells === 1 || row.cells_with_value === 0) return '';
  if (typeof row.cells_with_value !== 'number' || typeof row.cells !== 'number') return 'partial: not every area has data';
  return `partial: ${formatCount(row.cells_with_value)} of ${formatCount(row.cells)} ${levelNoun(cellLevel, row.cells)} have data`;
}

/// "households known for 240 of 282 LSOAs" (or without the count if the server does not give it), else ''.
export function householdsText(row, cellLevel) {
  if (!row || row.households_complete !== false) return '';
  const of = typeof row.cells === 'number' ? ` of ${formatCount(row.cells)} ${levelNoun(cellLevel, row.cells)}` : '';
  if (typeof row.cells_with_households === 'number') return `households known for ${formatCount(row.cells_with_households)}${of}`;
  return `households not known for every one${of ? ` of the ${formatCount(row.cells)} ${levelNoun(cellLevel, row.cells)}` : ''}`;
}

/// The note for a figure whose rounding bound is at least half of it, else ''.
export function roundingText(row, suggestion) {
  if (!row || row.rounding_dominates !== true) return '';
  const bound = typeof row.uncertainty === 'number' ? `±${formatBound(row.uncertainty)}` : 'the rounding bound';
  const value = typeof row.value === 'number' ? ` of ${formatCount(row.value)}` : '';
  const base = `Rounding dominates: ${bound} is at least half the figure${value}.`;
  const guidance = 'The guidance warns that MI like this "could be of little value".';
  if (!suggestion) return `${base} ${guidance} A coarser level, or a bespoke area of several areas, gives a steadier figure.`;
  const said = capitalise(String(suggestion).trim().replace(/\.?$/, '.'));
  return /little value/i.test(said) ? `${base} ${said}` : `${base} ${guidance} ${said}`;
}

// Links to /api/export/bespoke.{ext} for bespoke areas (or zones) `ids`, with the mapped dataset, measure and
// period when `withValues` (else the outlines alone: GeoJSON and GeoPackage). Shared by bespoke.js and zones.js.
export function bespokeExportLinks(ids, state, withValues) {
  const names = { csv: 'CSV', xlsx: 'XLSX', geojson: 'GeoJSON', gpkg: 'GeoPackage' };
  const formats = withValues ? ['csv', 'xlsx', 'geojson', 'gpkg'] : ['geojson', 'gpkg'];
  return formats.map((ext) => {
    const url = new URL(`/api/export/bespoke.${ext}`, window.location.href);
    url.searchParams.set('ids', ids.join(','));
    if (withValues) for (const k of ['dataset', 'measure', 'period']) if (state[k]) url.searchParams.set(k, state[k]);
    return `<a href="${escapeHtml(url.toString())}" download data-format="${ext}">${names[ext]}</a>`;
  }).join(' · ');
}
