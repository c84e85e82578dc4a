/**
 * The local Parameter Store with a data file, alone in a process, so a test can SIGKILL it in
 * the middle of writes. Argument: the data file. Sends `{ endpoint }` over IPC once listening.
 */
import { startLocalParameterStore } from '../../../local/parameter-store';

void (async () => {
  const store = await startLocalParameterStore({ dataFile: process.argv[2] });
  process.send?.({ endpoint: store.endpoint });
})();
