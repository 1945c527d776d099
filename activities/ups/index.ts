export * from './client';
export * from './connection';
export * from './errors';
export * from './normalize';
export * from './rate-request';
