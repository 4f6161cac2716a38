// The map's text alternative: "Table of this map" opens a dialog with the figures of the areas drawn in the current
// view (the /api/table rows of the mapped dataset, measure, period and level, and the change in a change map), the
// class each is coloured in, as an HTML table with a caption and column headers that a screen reader can walk.
// A modal <dialog>: Escape closes it and the focus goes back to the button.

import { requestJson } from './api.js';
import { $ } from './dom.js';
import { getMap } from './map.js';
import { CHANGE_FIELD, LEVEL_SHORT, currentDataset, currentMeasure, state, vintageParams } from './state.js';
import { changeClassOf, classIndexOf } from './style.js';
import { disclosureLabel, escapeHtml, formatBound, formatCount, formatOf, formatPeriod, formatRate, signed, unitPhrase } from './text.js';

/// What the dialog shows (the browser tests read it through main.js's test hook).
export const viewTable = { rows: [], inView: 0 };

let selecting = false; // the dialog closes because a row's area was chosen

function codesInView() {
  const map = getMap();
  if (!map || !map.getLayer('areas-fill')) return new Set();
  return new Set(map.queryRenderedFeatures({ layers: ['areas-fill'] }).map((f) => f.properties.code).filter(Boolean));
}

function classText(row) {
  if (row.suppressed) return 'suppressed';
  if (row.missing) return 'no data';
  if (state.compare) {
    const c = row.change;
    if (!c || !c.comparable) return 'not compared';
    if (c.within_rounding) return 'no change within rounding';
    const i = changeClassOf(state.breaks && state.breaks.cuts, c[CHANGE_FIELD[state.of] || 'value']);
    return i < 0 ? '' : i < 3 ? `fall, class ${3 - i} of 3` : `rise, class ${i - 2} of 3`;
  }
  const mapped = state.of === 'rate' ? row.rate_per_100_households : state.of === 'percent' ? row.percent : row.value;
  const i = classIndexOf(state.breaks, mapped);
  return i < 0 ? '' : `${i + 1} of ${state.breaks.classes.length}`;
}

async function open() {
  const dialog = $('view-table-dialog');
  const body = $('view-table-body');
  body.innerHTML = '<p class="muted">Loading…</p>';
  if (!dialog.open) dialog.showModal();
  const inView = codesInView();
  try {
    const table = await requestJson('/api/table', {
      params: { dataset: state.dataset, measure: state.measure, period: state.period, level: state.level, ...vintageParams(), compare: state.compare },
    });
    const measure = currentMeasure();
    const percent = measure && measure.kind === 'percent_only';
    const rows = (table.rows || []).filter((r) => inView.size === 0 || inView.has(r.code));
    rows.sort((a, b) => String(a.name || a.code).localeCompare(String(b.name || b.code)));
    viewTable.rows = rows;
    viewTable.inView = inView.size;
    const label = disclosureLabel(table.disclosure || {}, currentDataset());
    const heads = ['Area', 'Code', percent ? 'Percent' : 'Count (± rounding)', ...(percent || !measure.denominator ? [] : ['Per 100 households']),
      'Households', ...(state.compare ? [`Change since ${formatPeriod(state.compare)}`] : []), 'Map class'];
    const cells = rows.map((r) => {
      const figure = r.suppressed ? 'suppressed' : r.missing ? 'no data' : percent ? formatOf('percent', r.percent)
        : `${formatCount(r.value)}${r.uncertainty ? ` ± ${formatBound(r.uncertainty)}` : ''}`;
      // The area's name opens its panel (the keyboard's way to select an area without pointing at the canvas).
      const out = [`<th scope="row"><button type="button" class="link-button" data-select="${escapeHtml(r.code)}">${escapeHtml(r.name || r.code)}</button></th>`, `<td><code>${escapeHtml(r.code)}</code></td>`, `<td class="num">${escapeHtml(figure)}</td>`];
      if (!percent && measure.denominator) out.push(`<td class="num">${escapeHtml(formatRate(r.rate_per_100_households))}</td>`);
      out.push(`<td class="num">${escapeHtml(formatCount(r.households))}</td>`);
      if (state.compare) {
        const c = r.change;
        const v = c && c.comparable ? c[CHANGE_FIELD[state.of] || 'value'] : null;
        out.push(`<td class="num">${escapeHtml(v === null || v === undefined ? '–' : signed(state.of, v))}</td>`);
      }
      out.push(`<td>${escapeHtml(classText(r))}</td>`);
      return `<tr data-code="${escapeHtml(r.code)}">${out.join('')}</tr>`;
    }).join('');
    const scope = inView.size ? `the ${formatCount(rows.length)} ${LEVEL_SHORT[state.level] || state.level} areas drawn in the current view` : `all ${formatCount(rows.length)} areas`;
    body.innerHTML = `
      <p id="view-table-summary">${escapeHtml(`${measure ? measure.title : ''}, ${unitPhrase(state.of, measure)}, ${formatPeriod(state.period)}: ${scope}. ${label}.`)}</p>
      <div class="view-table-scroll" tabindex="0" role="region" aria-labelledby="view-table-title">
        <table id="view-table" class="view-table">
          <caption>${escapeHtml(`${measure ? measure.title : 'Figures'} by ${LEVEL_SHORT[state.level] || state.level}, ${formatPeriod(state.period)} (${label})`)}</caption>
          <thead><tr>${heads.map((h) => `<th scope="col">${escapeHtml(h)}</th>`).join('')}</tr></thead>
          <tbody>${cells}</tbody>
        </table>
      </div>`;
  } catch (error) {
    body.innerHTML = `<p class="warning">Could not load the table: ${escapeHtml(error.message)}</p>`;
  }
}

/// The button under the map and the dialog's close button (called once by main.js).
export function bindViewTable(onSelect) {
  $('view-table-body').addEventListener('click', (event) => {
    const button = event.target.closest('button[data-select]');
    if (!button) return;
    selecting = true;
    $('view-table-dialog').close();
    onSelect(button.dataset.select);
  });
  $('view-table-open').addEventListener('click', open);
  $('view-table-close').addEventListener('click', () => $('view-table-dialog').close());
  // Back to the button, or to the area panel that a row's button opened.
  $('view-table-dialog').addEventListener('close', () => {
    if (selecting) $('details').focus();
    else $('view-table-open').focus();
    selecting = false;
  });
}
