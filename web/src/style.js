// How the choropleth is coloured: the server's class breaks (never computed here) in ColorBrewer YlGnBu, grey for no
// data, pale grey under a hatch for suppressed areas. engine/styles.cpp gives QGIS, SLD and MapLibre clients the
// same palette and fills.

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

function paletteFor(n) {
  if (n <= 0) return [];
  if (n >= 3) return PALETTES[Math.min(n, 9)];
  return n === 1 ? [PALETTES[3][1]] : [PALETTES[3][0], PALETTES[3][2]];
}

// Breaks are inclusive upper bounds; a value within this of a break still belongs to the class below it.
const slack = (b) => Math.max(1e-9, Math.abs(b) * 1e-9);

/// The MapLibre fill-color expression for tile property `of` classed by `breaks` (an /api/breaks answer), and the
/// colour of each class.
export function fillColour(of, breaks) {
  const stops = breaks ? breaks.breaks : [];
  const colours = paletteFor(stops.length);
  let classed;
  if (stops.length <= 1) {
    classed = colours[0] || MISSING_FILL;
  } else {
    // `step` switches at >= stop, so each stop sits just above the break.
    classed = ['step', ['to-number', ['get', of]], colours[0]];
    for (let i = 0; i < stops.length - 1; i += 1) classed.push(stops[i] + slack(stops[i]), colours[i + 1]);
  }
  const expression = [
    'case',
    ['==', ['get', 'suppressed'], true], SUPPRESSED_FILL,
    ['==', ['get', 'missing'], true], MISSING_FILL,
    ['!', ['has', of]], MISSING_FILL,
    classed,
  ];
  return { expression, colours };
}

/// The class of value v under `breaks`, as the map colours it; -1 without breaks or a value.
export function classIndexOf(breaks, v) {
  if (!breaks || v === null || v === undefined) return -1;
  for (let i = 0; i < breaks.breaks.length; i += 1) if (v <= breaks.breaks[i] + slack(breaks.breaks[i])) return i;
  return breaks.breaks.length - 1;
}

/// A seamless 8 px diagonal hatch at device pixel ratio 2 (MapLibre image 'hatch'), drawn on a canvas.
export function hatchImage() {
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
