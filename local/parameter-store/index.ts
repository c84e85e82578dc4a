export { startLocalParameterStore, type LocalParameterStore, type LocalParameterStoreOptions } from './server';
export type { ParameterChange, ParameterType } from './parameter-store';
