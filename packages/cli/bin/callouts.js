#!/usr/bin/env node
// The `callouts` command: a file that exists before the build, so installing the workspace
// can link it; the CLI itself is the compiled dist/main.js.
import "../dist/main.js";
