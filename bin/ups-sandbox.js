#!/usr/bin/env node
// The `ups-sandbox` bin: runs ups-sandbox/main.ts through tsx (the project ships TypeScript sources).
import { register } from 'tsx/esm/api';

register();
await import('../ups-sandbox/main.ts');
