#!/usr/bin/env node
// Launcher committed beside the build, so npm links the `pacsflow` bin even before the first build.
import '../dist/cli.js'
