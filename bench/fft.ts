// Benchmark: the forward and inverse real 3D FFT of @pacsflow/imaging (rfft3d + irfft3d) against
// numpy's scipy.fft (pocketfft, C++) on the same shapes, in the same run, one thread each: our
// FFT with its WebAssembly SIMD butterflies, the same with the TypeScript plans only
// (PACSFLOW_FFT_WASM=0), and scipy.fft.rfftn/irfftn (workers=1, Debian's /usr/bin/python3). Each
// figure is the minimum over the repetitions of one forward+inverse pair, in ns per voxel.
//
// Run: node --conditions=source --import tsx bench/fft.ts [--reps 10]
import { spawnSync } from 'node:child_process'
import { parseArgs } from 'node:util'
import { halfShape, irfft3d, rfft3d, type Shape3 } from '@pacsflow/imaging'

const { values } = parseArgs({ options: { reps: { type: 'string', default: '10' }, child: { type: 'boolean', default: false } } })
const reps = Number(values.reps)
/** The QSM boxes of the default exam (single-step, V-SHARP/RTS) and a whole 128x128x96 grid. */
const SHAPES: Shape3[] = [[90, 108, 72], [100, 120, 90], [128, 128, 96]]

/** ns per voxel of one rfft3d + irfft3d pair, the minimum over `reps` (after one untimed warm-up pair). */
function ours(shape: Shape3): number {
  const size = shape[0] * shape[1] * shape[2]
  const input = new Float64Array(size)
  for (let i = 0; i < size; i++) input[i] = Math.sin(i * 0.37) + (i % 7)
  const half = halfShape(shape)
  const spectrum = { re: new Float64Array(half[0] * half[1] * half[2]), im: new Float64Array(half[0] * half[1] * half[2]) }
  const output = new Float64Array(size)
  let best = Number.POSITIVE_INFINITY
  for (let rep = 0; rep <= reps; rep++) {
    const started = process.hrtime.bigint()
    rfft3d(input, shape, spectrum)
    irfft3d(spectrum, shape, output)
    if (rep > 0) best = Math.min(best, Number(process.hrtime.bigint() - started))
  }
  return best / size
}

const NUMPY = `
import sys, time, numpy as np, scipy.fft as F
reps = int(sys.argv[1])
for arg in sys.argv[2:]:
    nx, ny, nz = (int(v) for v in arg.split('x'))
    x = np.random.rand(nz, ny, nx)
    best = 1e30
    for rep in range(reps + 1):
        t = time.perf_counter_ns()
        F.irfftn(F.rfftn(x, workers=1), s=x.shape, workers=1)
        if rep > 0: best = min(best, time.perf_counter_ns() - t)
    print(best / x.size)
`

function run(env: Record<string, string>): number[] {
  const child = spawnSync(process.execPath, [...process.execArgv, import.meta.filename, '--child', '--reps', String(reps)], { env: { ...process.env, ...env }, encoding: 'utf8' })
  if (child.status !== 0) throw new Error(`the FFT child failed: ${child.stderr}`)
  return child.stdout.trim().split('\n').map(Number)
}

if (values.child) {
  for (const shape of SHAPES) console.log(ours(shape))
} else {
  const wasm = run({ PACSFLOW_FFT_WASM: '1' })
  const plain = run({ PACSFLOW_FFT_WASM: '0' })
  const python = spawnSync('/usr/bin/python3', ['-c', NUMPY, String(reps), ...SHAPES.map((s) => s.join('x'))], { encoding: 'utf8' })
  const numpy = python.status === 0 ? python.stdout.trim().split('\n').map(Number) : undefined
  if (numpy === undefined) console.log(`numpy/scipy unavailable (${python.stderr.trim().split('\n').pop()}): ours only`)
  console.log(`real 3D FFT, forward + inverse, one thread, min of ${reps}; ns per voxel`)
  console.log('shape           WASM+TS   TS only   scipy.fft   TS/WASM   scipy/ours')
  SHAPES.forEach((shape, k) => {
    const [a, b, c] = [wasm[k]!, plain[k]!, numpy?.[k]]
    const cells = [shape.join('x').padEnd(14), a.toFixed(1).padStart(8), b.toFixed(1).padStart(9), (c?.toFixed(1) ?? '-').padStart(11), (b / a).toFixed(2).padStart(9), (c === undefined ? '-' : (c / a).toFixed(2)).padStart(12)]
    console.log(cells.join(' '))
  })
}
