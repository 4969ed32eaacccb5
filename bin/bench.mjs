#!/usr/bin/env node
// Placeholder until the benchmark suite lands: says so rather than printing invented figures.
process.stdout.write('npm run bench: the benchmark suite is not built yet (see README "Status").\n');
