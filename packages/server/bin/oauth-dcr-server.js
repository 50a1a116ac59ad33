#!/usr/bin/env node
// The `oauth-dcr-server` command: runs the compiled CLI (src/cli.ts). It is a committed file of
// its own because npm links a package's commands when it installs it, before `prepare` has built
// dist/, and skips a command whose file does not exist yet.
import '../dist/cli.js';
