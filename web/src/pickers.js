// The "What to map" pickers (dataset, measure, period, level, show as, classes), the period coverage note beside
// them, the classification badge and banner, and the credits under the panel. Rendering reads state.js; a change is
// handed to main.js, which owns what happens next.

import { $ } from './dom.js';
import { catalog, currentDataset, currentMeasure, levelOptions, levelVintage, ofOptions, state, vintagesFor } from './state.js';
import {
  BOUNDARY_ATTRIBUTION, COMPLETE_SHARE, disclosureLabel, escapeHtml, formatPeriod, honestText, levelNoun, percentOf, periodCoverage,
  periodCoverageText,
} from './text.js';

// Short labels for the "Show as" picker; the legend subtitle spells the unit out.
const OF_LABELS = {
  rate: 'Rate',
  value: 'Count',
  percent: 'Percent',
};

// The pickers' element ids, which are also the state fields they set.
const PICKERS = ['dataset', 'measure', 'period', 'compare', 'level', 'vintage', 'of', 'method', 'classes'];

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

export function renderPickers() {
  const dataset = currentDataset();
  const measure = currentMeasure();
  fillSelect(
    $('dataset'),
    catalog.datasets.map((d) => [d.id, `${d.title}${d.classification === 'internal' ? ' [internal]' : ''}`]),
    state.dataset,
  );
  $('dataset').disabled = catalog.datasets.length === 0;
  fillSelect($('measure'), dataset ? dataset.measures.map((m) => [m.id, m.kind === 'percent_only' ? `${m.title} (%)` : m.title]) : [], state.measure);
  fillSelect($('period'), dataset ? [...dataset.periods].reverse().map((p) => [p, periodOptionLabel(dataset, p)]) : [], state.period);
  // Change since: any other period of the dataset (the change map's diverging classes replace method and classes).
  fillSelect($('compare'), [['', 'None (this period only)'],
    ...(dataset ? [...dataset.periods].reverse().filter((p) => p !== state.period).map((p) => [p, formatPeriod(p)]) : [])], state.compare || '');
  $('method').disabled = Boolean(state.compare);
  $('classes').disabled = Boolean(state.compare);
  fillSelect($('of'), ofOptions(measure).map((o) => [o, OF_LABELS[o]]), state.of);
  fillSelect(
    $('level'),
    levelOptions(dataset).map((l) => [l.id, l.short]),
    state.level,
  );
  // Boundaries: the dataset's own vintage, or one a crosswalk moves it to (where the level has boundaries there).
  const vintages = vintagesFor(dataset, measure).filter((v) => levelVintage(dataset, measure, state.level, v) === v);
  const shown = state.vintage || (dataset ? dataset.vintage : null);
  fillSelect($('vintage'), vintages.map((v) => [String(v), dataset && v === dataset.vintage ? `${v} (as published)` : `${v} (moved: ONS lookup)`]),
    shown === null ? null : String(shown));
  // Only when there is a choice (a dataset on one census's boundaries has none): the pickers stay above the fold.
  $('vintage-field').hidden = vintages.length <= 1;
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

/// The header badge, the internal-MI banner and body[data-classification] (auth.js labels downloads from it).
export function renderClassification(disclosure) {
  const classification = disclosure ? disclosure.classification : '';
  const label = disclosureLabel(disclosure, currentDataset());
  const badge = $('classification-badge');
  const short = { published: 'Published', internal: 'Internal MI' }[classification] || label;
  badge.innerHTML = `<span class="badge-long">${escapeHtml(label)}</span><span class="badge-short" aria-hidden="true">${escapeHtml(short)}</span>`;
  badge.dataset.classification = classification;
  $('internal-banner').hidden = classification !== 'internal';
  document.body.dataset.classification = classification;
}

/// Calls onChange(key, value) when a picker changes (key: a state field, see PICKERS). The coverage note's switch
/// changes the period picker as a user would.
export function bindPickers(onChange) {
  for (const key of PICKERS) $(key).addEventListener('change', (event) => onChange(key, event.target.value || null));
  $('period-coverage-switch').addEventListener('click', (event) => {
    const period = event.currentTarget.dataset.period;
    if (!period) return;
    $('period').value = period;
    $('period').dispatchEvent(new Event('change'));
    $('period').focus(); // the switch hides itself; keep the keyboard user on the picker it changed
  });
}
