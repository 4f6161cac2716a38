// The legend: the classes /api/breaks gives for the view (colours from style.js via map.js), how much of the map
// has data, the disclosure label and rule, and the table downloads for the view.

import { requestJson } from './api.js';
import { $ } from './dom.js';
import { applyClasses, showStatus } from './map.js';
import { renderClassification } from './pickers.js';
import { CHANGE_FIELD, LEVELS, currentDataset, currentMeasure, state, vintageParams, viewKey } from './state.js';
import { CHANGE_COLOURS, changeClassOf, changeClasses } from './style.js';
import {
  capitalise, disclosureLabel, formatCount, formatOf, formatPeriod, honestText, levelNoun, percentOf, periodCoverage, signed, unitPhrase,
} from './text.js';

// A change map's classes: the change of every area /api/table?compare= gives, in diverging classes (style.js).
async function changeBreaks() {
  const table = await requestJson('/api/table', {
    params: { dataset: state.dataset, measure: state.measure, period: state.period, level: state.level, ...vintageParams(), compare: state.compare },
  });
  const field = CHANGE_FIELD[state.of] || 'value';
  const rows = table.rows || [];
  const comparable = rows.filter((r) => r.change && r.change.comparable && typeof r.change[field] === 'number');
  const moved = comparable.filter((r) => !r.change.within_rounding).map((r) => r.change[field]);
  const { cuts, max } = changeClasses(moved, state.of);
  const counts = CHANGE_COLOURS.map(() => 0);
  for (const v of moved) counts[changeClassOf(cuts, v)] += 1;
  return {
    change: true,
    compare: state.compare,
    cuts,
    max,
    breaks: [],
    classes: cuts.length ? counts.map((count, i) => ({ index: i, count })) : [],
    within: comparable.length - moved.length,
    comparable: comparable.length,
    rows: rows.length,
    rule: table.compare ? table.compare.rule : '',
    disclosure: table.disclosure,
  };
}

// "below −10", "−10 to below −5", ... for class i of cuts [-t2, -t1, 0, t1, t2].
function changeRange(cuts, i) {
  const s = (v) => signed(state.of, v);
  return [`below ${s(cuts[0])}`, `${s(cuts[0])} to below ${s(cuts[1])}`, `${s(cuts[1])} to below 0`,
    `above 0 to ${s(cuts[3])}`, `over ${s(cuts[3])} to ${s(cuts[4])}`, `over ${s(cuts[4])}`][i];
}

let breaksToken = 0;

/// Fetches the class breaks for the view, colours the map with them and renders the legend; the last call wins.
export async function refreshBreaks() {
  const token = ++breaksToken;
  $('legend').setAttribute('aria-busy', 'true');
  try {
    const breaks = state.compare ? await changeBreaks() : await requestJson('/api/breaks', {
      params: {
        dataset: state.dataset,
        measure: state.measure,
        period: state.period,
        level: state.level,
        ...vintageParams(),
        method: state.method,
        classes: state.classes,
        of: state.of,
      },
    });
    if (token !== breaksToken) return;
    state.breaks = breaks;
    state.error = null;
    showStatus(null);
    applyClasses();
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

function tableUrl(extra = {}) {
  const url = new URL('/api/table', window.location.href);
  const params = { dataset: state.dataset, measure: state.measure, period: state.period, level: state.level, ...vintageParams(), ...extra };
  for (const [key, value] of Object.entries(params)) if (value) url.searchParams.set(key, value);
  return url;
}

function renderLegend() {
  const b = state.breaks;
  const measure = currentMeasure();
  const dataset = currentDataset();
  const disclosure = (b && b.disclosure) || (dataset && dataset.disclosure) || null;
  $('legend-title').textContent = measure ? `${b && b.change ? 'Change in ' : ''}${b && b.change ? measure.title.toLowerCase() : measure.title}` : 'Legend';
  const levelName = (LEVELS.find((l) => l.id === state.level) || { label: state.level }).label;
  $('legend-subtitle').textContent = b && b.change
    ? `${capitalise(unitPhrase(state.of, measure))}: ${formatPeriod(state.period)} minus ${formatPeriod(b.compare)}, by ${levelName}`
    : `${capitalise(unitPhrase(state.of, measure))}, ${formatPeriod(state.period)}, by ${levelName}`;
  $('legend-missing-text').textContent = b && b.change
    ? 'Not compared (no figure for every cell in both periods)' : 'No data (or no household count for a rate)';

  const list = $('legend-classes');
  if (b && b.change) {
    renderChangeLegend(list, b);
  } else {
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
      count.textContent = `${formatCount(c.count)} ${c.count === 1 ? 'area' : 'areas'}`;
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
    $('legend-rule').textContent = honestText(disclosure.rule, disclosure, dataset) +
      (b && b.change && b.rule ? ` Change: ${honestText(b.rule, disclosure, dataset).replace(/\.?$/, '.')}` : '');
    renderClassification(disclosure);
  }
  $('download-csv').href = tableUrl({ format: 'csv' }).toString();
  // The server's dated file name (Content-Disposition), as for every other export.
  $('download-csv').setAttribute('download', '');
  $('download-xlsx').href = tableUrl({ format: 'xlsx' }).toString();
  $('download-xlsx').setAttribute('download', `${state.dataset}_${state.measure}_${state.period}_${state.level}.xlsx`);
}

// A change map's legend: three classes of fall, three of rise, and "no change within rounding" as its own class.
function renderChangeLegend(list, b) {
  const item = (swatchClass, colour, text, count, attrs) => {
    const li = document.createElement('li');
    for (const [k, v] of Object.entries(attrs)) li.dataset[k] = v;
    const swatch = document.createElement('span');
    swatch.className = `swatch ${swatchClass}`;
    if (colour) swatch.style.background = colour;
    swatch.setAttribute('aria-hidden', 'true');
    const label = document.createElement('span');
    label.className = 'class-range';
    label.textContent = text;
    const n = document.createElement('span');
    n.className = 'class-count';
    n.textContent = `${formatCount(count)} ${count === 1 ? 'area' : 'areas'}`;
    li.append(swatch, label, n);
    return li;
  };
  const items = b.classes.map((c, i) => item('', CHANGE_COLOURS[i], changeRange(b.cuts, i), c.count, { classIndex: String(i) }));
  // Between the falls and the rises: where the neutral class sits on a diverging scale.
  items.splice(Math.min(3, items.length), 0, item('swatch-nochange', null, 'No change within rounding', b.within, { changeClass: 'within-rounding' }));
  list.replaceChildren(...items);
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

/// On a level coarser than the dataset's, counts the areas whose sum misses some cells (rows with complete: false).
/// Only the JSON table knows; an older server without `complete` leaves state.partial null and the legend silent.
export async function refreshPartial() {
  const dataset = currentDataset();
  const key = viewKey();
  state.partial = null;
  if (!dataset || state.level === dataset.level) return;
  try {
    const table = await requestJson('/api/table', { params: { dataset: state.dataset, measure: state.measure, period: state.period, level: state.level, ...vintageParams() } });
    if (key !== viewKey()) return;
    const rows = table.rows || [];
    if (!rows.some((r) => typeof r.complete === 'boolean')) return;
    state.partial = { key, level: state.level, rows: rows.length, partial: rows.filter((r) => r.complete === false).length };
    renderLegendCoverage(dataset);
  } catch {
    // the legend simply says nothing about partial areas
  }
}
