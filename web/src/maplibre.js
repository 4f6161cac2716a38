// MapLibre GL JS, for the modules that build the map.
//
// The one read of a page global, in one place: maplibre-gl 5 ships only a UMD build (dist/maplibre-gl.js, no ES
// module), and build.mjs copies it to vendor/ without a bundler, so index.html loads it with a classic <script>
// before main.js and it defines window.maplibregl. Every other module imports it from here.
const maplibregl = window.maplibregl;
if (!maplibregl) throw new Error('vendor/maplibre-gl.js did not load (run npm run build in web/)');

export default maplibregl;
