#!/usr/bin/env node
// The `shipbatch` bin: runs client/cli/main.ts through tsx (the project ships TypeScript sources).
import { register } from 'tsx/esm/api';

register();
const { runCli } = await import('../client/cli/main.ts');
const code = await runCli(process.argv.slice(2));
// Open handles (gRPC channels, pg pools of a failed command) must not keep a finished command alive.
process.exit(code);
