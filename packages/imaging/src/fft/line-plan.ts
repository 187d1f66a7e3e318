// One-dimensional complex FFT plans that transform a batch of interleaved lines at once (Stockham autosort, radix 2/3/4/5/p, Bluestein).
//
// A batch of `B` lines of length `n` lies in a scratch buffer as `[n][B]`: element `j` of line `b`
// at `j * B + b`. Every butterfly then runs over `s * B` contiguous values (s = the stage's
// stride), which keeps the inner loops long and cache-friendly for all three axes of a volume.
//
// Stockham's self-sorting formulation (no bit reversal), decimation in frequency, one stage per
// factor of n: with the sub-transform length `L`, stride `s` (L * s = n) and radix `r`, m = L / r,
//   y[q + s (r p + u)] = w_L^(p u) * sum_t x[q + s (p + t m)] * w_r^(t u),   w_L = exp(-2 pi i / L)
// (Cooley & Tukey 1965; Stockham 1966; the formulation of Van Loan, "Computational Frameworks for
// the Fast Fourier Transform", SIAM 1992, ch. 1.7). The result alternates between the two buffers.
// Lengths with a prime factor above MAX_DIRECT_RADIX use Bluestein's chirp-z algorithm (Bluestein
// 1970; Rabiner, Schafer & Rader 1969) on a 2/3/5-smooth length >= 2n - 1.
// The plans compute forward transforms (exp(-2 pi i jk/n)); the inverse is taken by conjugation.

/** Largest prime factor handled by a direct O(r^2) butterfly; larger ones go through Bluestein. */
const MAX_DIRECT_RADIX = 13

/** A forward FFT of `batch` interleaved lines held in `(xr, xi)`; `(yr, yi)` is scratch of the same size. */
export interface LinePlan {
  readonly n: number
  /** Transforms in place across the two buffers; returns which one holds the result (0: x, 1: y). */
  transform(xr: Float64Array, xi: Float64Array, yr: Float64Array, yi: Float64Array, batch: number): 0 | 1
}

interface Stage {
  readonly radix: number
  /** Sub-transform length L of this stage. */
  readonly length: number
  readonly stride: number
  /** cos, sin of -2 pi p u / L for p < L / r, u = 1..r-1, as [(p (r - 1) + u - 1) * 2 + (0|1)]. */
  readonly twiddles: Float64Array
}

/** Factors n into radices 4, 2, 3, 5 and larger primes (4 first: fewer passes over the data). */
export function factorize(n: number): number[] {
  const radices: number[] = []
  let rest = n
  while (rest % 4 === 0) {
    radices.push(4)
    rest /= 4
  }
  for (const p of [2, 3, 5]) {
    while (rest % p === 0) {
      radices.push(p)
      rest /= p
    }
  }
  for (let p = 7; p * p <= rest; p += 2) {
    while (rest % p === 0) {
      radices.push(p)
      rest /= p
    }
  }
  if (rest > 1) radices.push(rest)
  return radices
}

/** A stage's twiddles w_L^(p u) for p < L / r, u = 1..r-1, laid out as {@link Stage}'s `twiddles` (shared by the WebAssembly plan, so both are bit-identical). */
export function stageTwiddles(radix: number, length: number): Float64Array {
  const m = length / radix
  const twiddles = new Float64Array(m * (radix - 1) * 2)
  for (let p = 0; p < m; p++) {
    for (let u = 1; u < radix; u++) {
      const angle = (-2 * Math.PI * ((p * u) % length)) / length
      const at = (p * (radix - 1) + u - 1) * 2
      twiddles[at] = Math.cos(angle)
      twiddles[at + 1] = Math.sin(angle)
    }
  }
  return twiddles
}

/** cos and sin of -2 pi k / n for k = 0..n/2: the twiddles of the two-for-one real-row transform of an even n. */
export interface RealTwiddles {
  readonly twiddleRe: Float64Array
  readonly twiddleIm: Float64Array
}
const realTwiddleTables = new Map<number, RealTwiddles>()

/** The (cached) {@link RealTwiddles} for rows of even length n, shared by the TypeScript and WebAssembly real rows so both are bit-identical. */
export function realTwiddles(n: number): RealTwiddles {
  let tables = realTwiddleTables.get(n)
  if (tables === undefined) {
    const m = n / 2
    const twiddleRe = new Float64Array(m + 1)
    const twiddleIm = new Float64Array(m + 1)
    for (let k = 0; k <= m; k++) {
      twiddleRe[k] = Math.cos((-2 * Math.PI * k) / n)
      twiddleIm[k] = Math.sin((-2 * Math.PI * k) / n)
    }
    tables = { twiddleRe, twiddleIm }
    realTwiddleTables.set(n, tables)
  }
  return tables
}

class StockhamPlan implements LinePlan {
  private readonly stages: Stage[] = []
  // Per-radix scratch for the generic butterfly and its w_r^(tu) table (no allocation per butterfly).
  private readonly genericRe = new Float64Array(MAX_DIRECT_RADIX)
  private readonly genericIm = new Float64Array(MAX_DIRECT_RADIX)
  private readonly rootTables = new Map<number, Float64Array>()

  constructor(readonly n: number) {
    let length = n
    let stride = 1
    for (const radix of factorize(n)) {
      const m = length / radix
      this.stages.push({ radix, length, stride, twiddles: stageTwiddles(radix, length) })
      if (radix > 5 && !this.rootTables.has(radix)) this.rootTables.set(radix, rootsOfUnity(radix))
      length = m
      stride *= radix
    }
  }

  transform(xr: Float64Array, xi: Float64Array, yr: Float64Array, yi: Float64Array, batch: number): 0 | 1 {
    let flip = false
    for (const stage of this.stages) {
      if (flip) this.runStage(stage, yr, yi, xr, xi, batch)
      else this.runStage(stage, xr, xi, yr, yi, batch)
      flip = !flip
    }
    return flip ? 1 : 0
  }

  private runStage(stage: Stage, ar: Float64Array, ai: Float64Array, br: Float64Array, bi: Float64Array, batch: number): void {
    const sb = stage.stride * batch
    const m = stage.length / stage.radix
    if (stage.radix === 4) radix4(ar, ai, br, bi, m, sb, stage.twiddles)
    else if (stage.radix === 2) radix2(ar, ai, br, bi, m, sb, stage.twiddles)
    else if (stage.radix === 3) radix3(ar, ai, br, bi, m, sb, stage.twiddles)
    else if (stage.radix === 5) radix5(ar, ai, br, bi, m, sb, stage.twiddles)
    else this.generic(stage.radix, ar, ai, br, bi, m, sb, stage.twiddles)
  }

  private generic(r: number, ar: Float64Array, ai: Float64Array, br: Float64Array, bi: Float64Array, m: number, sb: number, tw: Float64Array): void {
    const roots = this.rootTables.get(r) as Float64Array
    const tr = this.genericRe
    const ti = this.genericIm
    const span = sb * m
    for (let p = 0; p < m; p++) {
      const outBase = sb * r * p
      for (let q = 0; q < sb; q++) {
        const inBase = q + sb * p
        for (let t = 0; t < r; t++) {
          tr[t] = ar[inBase + t * span] as number
          ti[t] = ai[inBase + t * span] as number
        }
        for (let u = 0; u < r; u++) {
          let sr = 0
          let si = 0
          for (let t = 0; t < r; t++) {
            const k = ((t * u) % r) * 2
            const wr = roots[k] as number
            const wi = roots[k + 1] as number
            const vr = tr[t] as number
            const vi = ti[t] as number
            sr += vr * wr - vi * wi
            si += vr * wi + vi * wr
          }
          const o = q + outBase + sb * u
          if (u === 0) {
            br[o] = sr
            bi[o] = si
          } else {
            const at = (p * (r - 1) + u - 1) * 2
            const wr = tw[at] as number
            const wi = tw[at + 1] as number
            br[o] = sr * wr - si * wi
            bi[o] = sr * wi + si * wr
          }
        }
      }
    }
  }
}

function rootsOfUnity(r: number): Float64Array {
  const roots = new Float64Array(r * 2)
  for (let k = 0; k < r; k++) {
    roots[k * 2] = Math.cos((-2 * Math.PI * k) / r)
    roots[k * 2 + 1] = Math.sin((-2 * Math.PI * k) / r)
  }
  return roots
}

function radix2(ar: Float64Array, ai: Float64Array, br: Float64Array, bi: Float64Array, m: number, sb: number, tw: Float64Array): void {
  const span = sb * m
  for (let p = 0; p < m; p++) {
    const w1r = tw[p * 2] as number
    const w1i = tw[p * 2 + 1] as number
    const i0 = sb * p
    const o0 = sb * 2 * p
    for (let q = 0; q < sb; q++) {
      const a0r = ar[i0 + q] as number
      const a0i = ai[i0 + q] as number
      const a1r = ar[i0 + q + span] as number
      const a1i = ai[i0 + q + span] as number
      br[o0 + q] = a0r + a1r
      bi[o0 + q] = a0i + a1i
      const dr = a0r - a1r
      const di = a0i - a1i
      br[o0 + q + sb] = dr * w1r - di * w1i
      bi[o0 + q + sb] = dr * w1i + di * w1r
    }
  }
}

// w_3 = -1/2 - i sqrt(3)/2: y1,2 = a0 - (a1 + a2)/2 -/+ i sqrt(3)/2 (a1 - a2).
function radix3(ar: Float64Array, ai: Float64Array, br: Float64Array, bi: Float64Array, m: number, sb: number, tw: Float64Array): void {
  const s3 = Math.sqrt(3) / 2
  const span = sb * m
  for (let p = 0; p < m; p++) {
    const w1r = tw[p * 4] as number
    const w1i = tw[p * 4 + 1] as number
    const w2r = tw[p * 4 + 2] as number
    const w2i = tw[p * 4 + 3] as number
    const i0 = sb * p
    const o0 = sb * 3 * p
    for (let q = 0; q < sb; q++) {
      const a0r = ar[i0 + q] as number
      const a0i = ai[i0 + q] as number
      const a1r = ar[i0 + q + span] as number
      const a1i = ai[i0 + q + span] as number
      const a2r = ar[i0 + q + 2 * span] as number
      const a2i = ai[i0 + q + 2 * span] as number
      const tr = a1r + a2r
      const ti = a1i + a2i
      const dr = s3 * (a1r - a2r)
      const di = s3 * (a1i - a2i)
      const cr = a0r - 0.5 * tr
      const ci = a0i - 0.5 * ti
      br[o0 + q] = a0r + tr
      bi[o0 + q] = a0i + ti
      const y1r = cr + di
      const y1i = ci - dr
      const y2r = cr - di
      const y2i = ci + dr
      br[o0 + q + sb] = y1r * w1r - y1i * w1i
      bi[o0 + q + sb] = y1r * w1i + y1i * w1r
      br[o0 + q + 2 * sb] = y2r * w2r - y2i * w2i
      bi[o0 + q + 2 * sb] = y2r * w2i + y2i * w2r
    }
  }
}

// w_4 = -i: y1 = (a0 - a2) - i (a1 - a3), y3 = (a0 - a2) + i (a1 - a3).
function radix4(ar: Float64Array, ai: Float64Array, br: Float64Array, bi: Float64Array, m: number, sb: number, tw: Float64Array): void {
  const span = sb * m
  for (let p = 0; p < m; p++) {
    const w1r = tw[p * 6] as number
    const w1i = tw[p * 6 + 1] as number
    const w2r = tw[p * 6 + 2] as number
    const w2i = tw[p * 6 + 3] as number
    const w3r = tw[p * 6 + 4] as number
    const w3i = tw[p * 6 + 5] as number
    const i0 = sb * p
    const o0 = sb * 4 * p
    for (let q = 0; q < sb; q++) {
      const k = i0 + q
      const a0r = ar[k] as number
      const a0i = ai[k] as number
      const a1r = ar[k + span] as number
      const a1i = ai[k + span] as number
      const a2r = ar[k + 2 * span] as number
      const a2i = ai[k + 2 * span] as number
      const a3r = ar[k + 3 * span] as number
      const a3i = ai[k + 3 * span] as number
      const t0r = a0r + a2r
      const t0i = a0i + a2i
      const t1r = a0r - a2r
      const t1i = a0i - a2i
      const t2r = a1r + a3r
      const t2i = a1i + a3i
      const t3r = a1r - a3r
      const t3i = a1i - a3i
      const o = o0 + q
      br[o] = t0r + t2r
      bi[o] = t0i + t2i
      const y1r = t1r + t3i
      const y1i = t1i - t3r
      const y2r = t0r - t2r
      const y2i = t0i - t2i
      const y3r = t1r - t3i
      const y3i = t1i + t3r
      br[o + sb] = y1r * w1r - y1i * w1i
      bi[o + sb] = y1r * w1i + y1i * w1r
      br[o + 2 * sb] = y2r * w2r - y2i * w2i
      bi[o + 2 * sb] = y2r * w2i + y2i * w2r
      br[o + 3 * sb] = y3r * w3r - y3i * w3i
      bi[o + 3 * sb] = y3r * w3i + y3i * w3r
    }
  }
}

// w_5^k = cos(2 pi k/5) - i sin(2 pi k/5); pairs (1,4) and (2,3) share their real parts.
// The stage's twiddles are loaded once per p, outside the loop over the batch (as radix 3 and 4 do).
function radix5(ar: Float64Array, ai: Float64Array, br: Float64Array, bi: Float64Array, m: number, sb: number, tw: Float64Array): void {
  const c1 = Math.cos((2 * Math.PI) / 5)
  const c2 = Math.cos((4 * Math.PI) / 5)
  const s1 = Math.sin((2 * Math.PI) / 5)
  const s2 = Math.sin((4 * Math.PI) / 5)
  const span = sb * m
  for (let p = 0; p < m; p++) {
    const t = p * 8
    const w1r = tw[t] as number
    const w1i = tw[t + 1] as number
    const w2r = tw[t + 2] as number
    const w2i = tw[t + 3] as number
    const w3r = tw[t + 4] as number
    const w3i = tw[t + 5] as number
    const w4r = tw[t + 6] as number
    const w4i = tw[t + 7] as number
    const i0 = sb * p
    const o0 = sb * 5 * p
    for (let q = 0; q < sb; q++) {
      const k = i0 + q
      const a0r = ar[k] as number
      const a0i = ai[k] as number
      const a1r = ar[k + span] as number
      const a1i = ai[k + span] as number
      const a2r = ar[k + 2 * span] as number
      const a2i = ai[k + 2 * span] as number
      const a3r = ar[k + 3 * span] as number
      const a3i = ai[k + 3 * span] as number
      const a4r = ar[k + 4 * span] as number
      const a4i = ai[k + 4 * span] as number
      const b1r = a1r + a4r
      const b1i = a1i + a4i
      const b2r = a2r + a3r
      const b2i = a2i + a3i
      const d1r = a1r - a4r
      const d1i = a1i - a4i
      const d2r = a2r - a3r
      const d2i = a2i - a3i
      const e1r = a0r + c1 * b1r + c2 * b2r
      const e1i = a0i + c1 * b1i + c2 * b2i
      const e2r = a0r + c2 * b1r + c1 * b2r
      const e2i = a0i + c2 * b1i + c1 * b2i
      const f1r = s1 * d1r + s2 * d2r
      const f1i = s1 * d1i + s2 * d2i
      const f2r = s2 * d1r - s1 * d2r
      const f2i = s2 * d1i - s1 * d2i
      const o = o0 + q
      br[o] = a0r + b1r + b2r
      bi[o] = a0i + b1i + b2i
      // y1 = e1 - i f1, y4 = e1 + i f1, y2 = e2 - i f2, y3 = e2 + i f2, each times its twiddle
      const y1r = e1r + f1i
      const y1i = e1i - f1r
      const y2r = e2r + f2i
      const y2i = e2i - f2r
      const y3r = e2r - f2i
      const y3i = e2i + f2r
      const y4r = e1r - f1i
      const y4i = e1i + f1r
      br[o + sb] = y1r * w1r - y1i * w1i
      bi[o + sb] = y1r * w1i + y1i * w1r
      br[o + 2 * sb] = y2r * w2r - y2i * w2i
      bi[o + 2 * sb] = y2r * w2i + y2i * w2r
      br[o + 3 * sb] = y3r * w3r - y3i * w3i
      bi[o + 3 * sb] = y3r * w3i + y3i * w3r
      br[o + 4 * sb] = y4r * w4r - y4i * w4i
      bi[o + 4 * sb] = y4r * w4i + y4i * w4r
    }
  }
}

/** Bluestein: X_k = c_k sum_j (x_j c_j) conj(c_(k-j)), c_j = exp(-i pi j^2 / n), a circular convolution of length m. */
class BluesteinPlan implements LinePlan {
  private readonly inner: LinePlan
  private readonly m: number
  private readonly chirpRe: Float64Array
  private readonly chirpIm: Float64Array
  private readonly kernelRe: Float64Array
  private readonly kernelIm: Float64Array
  private buffers: Float64Array[] = []

  constructor(readonly n: number) {
    this.m = nextSmooth(2 * n - 1)
    this.inner = linePlan(this.m)
    this.chirpRe = new Float64Array(n)
    this.chirpIm = new Float64Array(n)
    for (let j = 0; j < n; j++) {
      // j^2 mod 2n keeps the angle small and exact for large j.
      const angle = (-Math.PI * ((j * j) % (2 * n))) / n
      this.chirpRe[j] = Math.cos(angle)
      this.chirpIm[j] = Math.sin(angle)
    }
    const kr = new Float64Array(this.m)
    const ki = new Float64Array(this.m)
    for (let j = 0; j < n; j++) {
      kr[j] = this.chirpRe[j] as number
      ki[j] = -(this.chirpIm[j] as number)
      if (j > 0) {
        kr[this.m - j] = kr[j] as number
        ki[this.m - j] = ki[j] as number
      }
    }
    const sr = new Float64Array(this.m)
    const si = new Float64Array(this.m)
    const where = this.inner.transform(kr, ki, sr, si, 1)
    this.kernelRe = where === 0 ? kr : sr
    this.kernelIm = where === 0 ? ki : si
  }

  transform(xr: Float64Array, xi: Float64Array, yr: Float64Array, yi: Float64Array, batch: number): 0 | 1 {
    const { n, m } = this
    const size = m * batch
    if ((this.buffers[0]?.length ?? 0) < size) this.buffers = [0, 1, 2, 3].map(() => new Float64Array(size))
    const [ar, ai, br, bi] = this.buffers as [Float64Array, Float64Array, Float64Array, Float64Array]
    ar.fill(0, 0, size)
    ai.fill(0, 0, size)
    for (let j = 0; j < n; j++) {
      const cr = this.chirpRe[j] as number
      const ci = this.chirpIm[j] as number
      for (let b = 0; b < batch; b++) {
        const k = j * batch + b
        const vr = xr[k] as number
        const vi = xi[k] as number
        ar[k] = vr * cr - vi * ci
        ai[k] = vr * ci + vi * cr
      }
    }
    // Multiply by the kernel's spectrum, then conjugate so that the forward plan gives the inverse.
    const [fr, fi, gr, gi] = this.inner.transform(ar, ai, br, bi, batch) === 0 ? [ar, ai, br, bi] : [br, bi, ar, ai]
    for (let j = 0; j < m; j++) {
      const kr = this.kernelRe[j] as number
      const ki = this.kernelIm[j] as number
      for (let b = 0; b < batch; b++) {
        const k = j * batch + b
        const vr = fr[k] as number
        const vi = fi[k] as number
        fr[k] = vr * kr - vi * ki
        fi[k] = -(vr * ki + vi * kr)
      }
    }
    const [hr, hi] = this.inner.transform(fr, fi, gr, gi, batch) === 0 ? [fr, fi] : [gr, gi]
    for (let j = 0; j < n; j++) {
      const cr = (this.chirpRe[j] as number) / m
      const ci = (this.chirpIm[j] as number) / m
      for (let b = 0; b < batch; b++) {
        const k = j * batch + b
        const vr = hr[k] as number
        const vi = -(hi[k] as number)
        yr[k] = vr * cr - vi * ci
        yi[k] = vr * ci + vi * cr
      }
    }
    return 1
  }
}

/** Smallest 2^a 3^b 5^c >= n (n >= 1). */
export function nextSmooth(n: number): number {
  let best = Number.POSITIVE_INFINITY
  for (let p5 = 1; p5 < 2 * n; p5 *= 5) {
    for (let p35 = p5; p35 < 2 * n; p35 *= 3) {
      let size = p35
      while (size < n) size *= 2
      if (size < best) best = size
    }
  }
  return best
}

const plans = new Map<number, LinePlan>()

/** The (cached) forward plan for lines of length n. */
export function linePlan(n: number): LinePlan {
  let plan = plans.get(n)
  if (plan === undefined) {
    const largest = Math.max(1, ...factorize(n))
    plan = largest > MAX_DIRECT_RADIX ? new BluesteinPlan(n) : new StockhamPlan(n)
    plans.set(n, plan)
  }
  return plan
}
