#!/usr/bin/env node
// The `shipbatch-mcp` bin: runs agent/main.ts through tsx (the project ships TypeScript sources).
import { register } from 'tsx/esm/api';

register();
await import('../agent/main.ts');
