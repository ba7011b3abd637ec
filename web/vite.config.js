// Builds the dashboard into static files that weft-core serves (--web-root). The output folder is
// WEFT_WEB_OUT when set (the CMake target weft_web sets it to <build dir>/web), else ../build/web,
// where `weft demo` (build/apps/weft) looks for it. Nothing is written into the source tree.
import { defineConfig } from 'vite';

export default defineConfig({
  base: '/',
  build: {
    outDir: process.env.WEFT_WEB_OUT || '../build/web',
    emptyOutDir: true,
    // One small bundle; no inline scripts (weft-core's Content-Security-Policy forbids them).
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
    target: 'es2020',
  },
});
