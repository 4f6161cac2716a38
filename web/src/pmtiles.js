// The npm `pmtiles` protocol for MapLibre: boundaries read from a static PMTiles archive by HTTP Range requests
// (the server's /boundaries/LEVEL.pmtiles, from `smallarea tiles export`). vendor/pmtiles.js is the package's
// self-contained IIFE build, loaded by index.html with a classic <script> like MapLibre; this is the one read of
// its global. Registered once, on first use.
import maplibregl from './maplibre.js';

let registered = false;

/// The MapLibre source URL of an archive (pmtiles://https://host/boundaries/lsoa.pmtiles), the protocol registered.
export function pmtilesSourceUrl(archiveUrl) {
  if (!registered) {
    const pmtiles = window.pmtiles;
    if (!pmtiles) throw new Error('vendor/pmtiles.js did not load (run npm run build in web/)');
    maplibregl.addProtocol('pmtiles', new pmtiles.Protocol().tile);
    registered = true;
  }
  return `pmtiles://${archiveUrl}`;
}
