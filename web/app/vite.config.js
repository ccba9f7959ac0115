import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// The Starlette app serves ../dist/index.html for every dashboard route and
// ../dist/assets/* as static files. `npm run dev` proxies the API to a local server.
const api = process.env.REFERLOOP_API || 'http://127.0.0.1:8000';

export default defineConfig({
  base: '/',
  plugins: [svelte()],
  build: {
    outDir: '../dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    sourcemap: false,
  },
  server: {
    proxy: {
      '/graphql': { target: api, ws: true },
      '/auth': api,
      '/healthz': api,
    },
  },
});
