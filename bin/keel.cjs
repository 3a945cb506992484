#!/usr/bin/env node
// The `keel` command: registers tsx so the TypeScript sources run as they are, then hands over to cli/main.ts.
require('tsx/cjs/api').register();
require('../cli/main.ts');
