export * from './filters';
export * from './render';
export { IsolateFailure, ISOLATE_MEMORY_MB } from './isolate';
