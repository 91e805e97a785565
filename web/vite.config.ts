import { defineConfig } from "vite";

// The API serves web/dist under /ui/ (api/web.py); every asset is bundled, nothing from a CDN.
export default defineConfig({
  base: "/ui/",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 4000,
    assetsInlineLimit: 0,
  },
  server: {
    proxy: {
      "^/(auth|users|process-definitions|instances|tasks|lint|task-types|health)": "http://127.0.0.1:8000",
    },
  },
});
