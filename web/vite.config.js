// vite.config.js: builds the web client into internal/web/dist, which the Go binary embeds.
// The output must be reproducible (CI rebuilds and compares): file names
// carry content hashes only, and nothing depends on the time or the machine.
import { defineConfig } from "vite";
import { fileURLToPath } from "node:url";

export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  base: "/",
  publicDir: false,
  oxc: {
    jsx: { runtime: "automatic", importSource: "preact" },
  },
  build: {
    outDir: fileURLToPath(new URL("../internal/web/dist", import.meta.url)),
    emptyOutDir: true,
    sourcemap: false,
    // Modern browsers only: no polyfill, nothing inline (the CSP forbids
    // inline scripts).
    target: "es2022",
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    reportCompressedSize: false,
    rolldownOptions: {
      output: {
        entryFileNames: "assets/[name]-[hash].js",
        chunkFileNames: "assets/[name]-[hash].js",
        assetFileNames: "assets/[name]-[hash][extname]",
      },
    },
  },
  server: {
    proxy: {
      "/v1.0": "http://127.0.0.1:8080",
      "/parley": { target: "http://127.0.0.1:8080", ws: true },
      "/oauth2": "http://127.0.0.1:8080",
    },
  },
});
