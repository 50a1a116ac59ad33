#!/usr/bin/env node
// The `oauth-dcr` command: runs the compiled CLI (src/cli.ts). It is a committed file of its own
// because npm links a package's commands when it installs it, before `prepare` has built dist/,
// and skips a command whose file does not exist yet: in a fresh clone, `npx oauth-dcr` would
// otherwise be "not found".
import '../dist/cli.js';
