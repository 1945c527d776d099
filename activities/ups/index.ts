export * from './client';
export * from './connection';
export * from './errors';
export * from './from-config';
export * from './normalize';
export * from './rate-request';
export * from './session-pool';
