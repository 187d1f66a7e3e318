#!/usr/bin/env node
// Launcher committed beside the build, so npm links the `pacsflow` bin even before the first build.
// The on-disk compile cache (Node >= 22.1) saves recompiling the modules at every run of a short command.
import module from 'node:module'

module.enableCompileCache?.()
await import('../dist/cli.js')
