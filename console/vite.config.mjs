// The admin console's build: Preact through Vite, served under /console/ (npm start's front and
// CloudFront alike). No inline scripts or styles, so the CSP needs no 'unsafe-inline'.
import { fileURLToPath } from 'node:url';
import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/console/',
  plugins: [preact({ devToolsInProd: false, prefreshEnabled: false })],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // Inlined assets would become data: URLs the CSP would have to allow.
    assetsInlineLimit: 0,
    sourcemap: true,
    target: 'es2022',
  },
  // registry/tags.json and registry/tenants.json are bundled from outside this folder.
  server: { fs: { allow: ['..'] } },
});
