import { resolve } from 'node:path';

/** Where the local system keeps its data: `$LOCAL_DIR`, or `.local` under the working directory. */
export function localDirFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.LOCAL_DIR && env.LOCAL_DIR.length > 0 ? env.LOCAL_DIR : '.local');
}
