/**
 * Builds @tenant-config/client from the SDK's source in client/ (the design card's top level):
 * ESM (dist/index.mjs) and CommonJS (dist/index.js) with their types, one bundle of our own code
 * each; the runtime dependencies stay external (they are the package's dependencies).
 * Run: `npm run build -w @tenant-config/client` (or `npx tsup` here).
 */
import { defineConfig } from 'tsup';

export default defineConfig({
  // The OpenFeature provider is its own entry (`@tenant-config/client/openfeature`), so the main one never loads @openfeature/server-sdk.
  entry: { index: '../../client/index.ts', openfeature: '../../client/openfeature/index.ts' },
  outDir: 'dist',
  format: ['esm', 'cjs'],
  platform: 'node',
  target: 'node20',
  // Generated declarations: the repository's lint (eslint .) is not for them.
  dts: {
    banner: '/* eslint-disable */',
    compilerOptions: { ignoreDeprecations: '6.0', composite: false, incremental: false, rootDir: '../..', types: ['node'] },
  },
  tsconfig: 'tsconfig.build.json',
  sourcemap: true,
  clean: true,
  splitting: false,
  treeshake: true,
  external: ['@grpc/grpc-js', '@grpc/proto-loader', 'aws-jwt-verify', '@openfeature/server-sdk'],
});
