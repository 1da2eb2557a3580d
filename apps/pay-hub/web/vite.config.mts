import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

/** The Pay Hub's web app; `npm run build` writes it to dist/apps/pay-hub/web, which the hub's server serves. */
export default defineConfig({
  root,
  plugins: [react()],
  build: { outDir: fileURLToPath(new URL('../../../dist/apps/pay-hub/web', import.meta.url)), emptyOutDir: true, sourcemap: true },
  server: {
    // `npx vite apps/pay-hub/web`: the pages with hot reload, the hub's server (npm start) behind /api and /bff.
    proxy: {
      '/api/support/socket.io': { target: 'http://127.0.0.1:3000', ws: true },
      '/api': 'http://127.0.0.1:3000',
      '/bff': 'http://127.0.0.1:3000',
    },
  },
});
