import { defineConfig } from 'tsup'
import { libraryBuild } from '../../tsup.shared.js'

// The shared library build plus the FFT worker thread's entry, which the bundle loads from beside itself.
export default defineConfig({
  ...(libraryBuild as object),
  entry: { index: 'src/index.ts', 'fft-worker': 'src/fft/fft-worker.ts' },
})
