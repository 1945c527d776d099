#!/usr/bin/env node
// The `shipbatch` bin: runs client/cli/main.ts through tsx (the project ships TypeScript sources).
// No process.exit here: main() sets the exit code and the process ends once stdout and stderr are flushed
// (exiting at once cut piped output at the pipe's 64 KB).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../client/cli/main.ts');
await main(process.argv.slice(2));
