#!/usr/bin/env node
/** `tenant-config`: runs one command and exits with its code (0 ok, 1 error, 2 usage, 3 not found, 4 conflict). */
import { run } from './program';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`tenant-config: ${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 1;
  },
);
