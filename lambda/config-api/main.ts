/**
 * The config-api Lambda entry point. Dependencies are built on the first invocation and kept
 * for the life of the process; a configuration error fails that invocation with the name of
 * the variable at fault, and the next invocation tries again.
 */
import { ProcessResource } from '../shared/process-resource';
import { readConfigApiEnvironment } from './environment';
import { createHandler, type ConfigApiDeps, type ConfigApiLambdaHandler } from './handler';
import { buildConfigApiDepsFromEnvironment } from './wiring';

interface Ready {
  readonly deps: ConfigApiDeps;
  readonly handle: ConfigApiLambdaHandler;
}

const ready = new ProcessResource<Ready>(
  async () => {
    const deps = await buildConfigApiDepsFromEnvironment(readConfigApiEnvironment(process.env), process.env);
    return { deps, handle: createHandler(deps) };
  },
  async ({ deps }) => deps.dispose?.(),
);

export const handler: ConfigApiLambdaHandler = async (event, context) => (await ready.get()).handle(event, context);

/** Closes the process-wide connections (tests and local runs; a Lambda process just ends). */
export const dispose = (): Promise<void> => ready.dispose();
