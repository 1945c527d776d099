export * from './filters';
export * from './environment';
export * from './render';
