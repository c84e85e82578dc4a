/**
 * Builds @tenant-config/cli: one CommonJS file, dist/main.js (the `tenant-config` bin, with its
 * `#!/usr/bin/env node`). Our own code is bundled into it, the SDK from client/ and the local dev
 * signer included (imported by relative path); commander and the Cognito SDK stay external (they
 * are the package's dependencies), and so are the SDK's (@grpc/*, aws-jwt-verify: loaded by
 * `watch` alone). Run: `npm run build -w @tenant-config/cli` (or `npx tsup` here).
 */
import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { main: 'src/main.ts' },
  outDir: 'dist',
  format: ['cjs'],
  platform: 'node',
  target: 'node20',
  tsconfig: 'tsconfig.build.json',
  sourcemap: true,
  clean: true,
  splitting: false,
  treeshake: true,
  external: ['commander', '@aws-sdk/client-cognito-identity-provider'],
  noExternal: ['@grpc/grpc-js', '@grpc/proto-loader', 'aws-jwt-verify'],
});
