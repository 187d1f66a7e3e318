// LSMR (Fong & Saunders 2011): an iterative least-squares solver, here for few iterations as a regulariser.

/** A linear operator on float64 vectors: `apply(x, out)` writes A x, `adjoint(y, out)` writes A^T y. */
export interface LinearOperator {
  readonly rows: number
  readonly columns: number
  apply(x: Float64Array, out: Float64Array): void
  adjoint(y: Float64Array, out: Float64Array): void
}

function norm(v: Float64Array): number {
  let sum = 0
  for (let i = 0; i < v.length; i++) sum += (v[i] as number) * (v[i] as number)
  return Math.sqrt(sum)
}

function scaleInPlace(v: Float64Array, s: number): void {
  for (let i = 0; i < v.length; i++) v[i] = (v[i] as number) * s
}

/** The scales of one LSMR iteration's vector updates: h-bar = h - hBar h-bar, x += x h-bar, h = v - h h. */
interface UpdateScales {
  readonly hBar: number
  readonly x: number
  readonly h: number
}

/**
 * The scalar part of LSMR (Fong & Saunders 2011, algorithm 1 without damping): the two plane
 * rotations per iteration that turn the bidiagonalisation's alpha and beta into the scales of the
 * vector updates. `zetaBar` is ||A^T r|| after the latest step.
 */
class LsmrRotations {
  private alphaBar: number
  zetaBar: number
  private rho = 1
  private rhoBar = 1
  private cBar = 1
  private sBar = 0

  constructor(alpha: number, beta: number) {
    this.alphaBar = alpha
    this.zetaBar = alpha * beta
  }

  /** One step with the new beta and alpha of the bidiagonalisation. */
  step(beta: number, alpha: number): UpdateScales {
    // Rotation P_k eliminates beta from the bidiagonal matrix.
    const rhoPrevious = this.rho
    this.rho = Math.hypot(this.alphaBar, beta)
    const c = this.alphaBar / this.rho
    const s = beta / this.rho
    const theta = s * alpha
    this.alphaBar = c * alpha
    // Rotation P-bar_k on the upper bidiagonal system.
    const rhoBarPrevious = this.rhoBar
    const thetaBar = this.sBar * this.rho
    const rhoTemp = this.cBar * this.rho
    this.rhoBar = Math.hypot(rhoTemp, theta)
    this.cBar = rhoTemp / this.rhoBar
    this.sBar = theta / this.rhoBar
    const zeta = this.cBar * this.zetaBar
    this.zetaBar = -this.sBar * this.zetaBar
    return { hBar: (thetaBar * this.rho) / (rhoPrevious * rhoBarPrevious), x: zeta / (this.rho * this.rhoBar), h: theta / this.rho }
  }
}

/**
 * `maxIterations` steps of LSMR for min ||A x - b|| from x = 0 (Fong & Saunders, "LSMR: an
 * iterative algorithm for sparse least-squares problems", SIAM J Sci Comput 33:2950, 2011,
 * algorithm 1 without damping). LSMR is MINRES on the normal equations, so ||A^T r|| falls
 * monotonically; stopped early it keeps the well-determined components of the solution and
 * damps the rest (the regularisation the rapid two-step inversion uses). Stops early when
 * ||A^T r|| <= tolerance ||A^T b||.
 */
export function lsmr(operator: LinearOperator, b: Float64Array, maxIterations: number, tolerance = 0): Float64Array {
  const x = new Float64Array(operator.columns)
  const u = b.slice()
  let beta = norm(u)
  if (beta === 0) return x
  scaleInPlace(u, 1 / beta)
  const v = new Float64Array(operator.columns)
  operator.adjoint(u, v)
  let alpha = norm(v)
  if (alpha === 0) return x
  scaleInPlace(v, 1 / alpha)
  const h = v.slice()
  const hBar = new Float64Array(operator.columns)
  const av = new Float64Array(operator.rows)
  const atu = new Float64Array(operator.columns)
  const rotations = new LsmrRotations(alpha, beta)
  const initial = alpha * beta
  for (let k = 0; k < maxIterations; k++) {
    // Golub-Kahan bidiagonalisation: beta u = A v - alpha u, alpha v = A^T u - beta v.
    operator.apply(v, av)
    for (let i = 0; i < u.length; i++) u[i] = (av[i] as number) - alpha * (u[i] as number)
    beta = norm(u)
    if (beta > 0) scaleInPlace(u, 1 / beta)
    operator.adjoint(u, atu)
    for (let i = 0; i < v.length; i++) v[i] = (atu[i] as number) - beta * (v[i] as number)
    alpha = norm(v)
    if (alpha > 0) scaleInPlace(v, 1 / alpha)
    const scale = rotations.step(beta, alpha)
    // Update h-bar, x and h.
    for (let i = 0; i < x.length; i++) {
      const hb = (h[i] as number) - scale.hBar * (hBar[i] as number)
      hBar[i] = hb
      x[i] = (x[i] as number) + scale.x * hb
      h[i] = (v[i] as number) - scale.h * (h[i] as number)
    }
    // |zeta-bar| is ||A^T r_k||.
    if (Math.abs(rotations.zetaBar) <= tolerance * initial || alpha === 0 || beta === 0) break
  }
  return x
}

/**
 * {@link lsmr} for a diagonal operator applied to stacked halves, `A = diag(d, d)` on `[re; im]`
 * (RTS step 1: the dipole kernel on a half spectrum), with the vector updates fused into three
 * passes per iteration. The same iterates as `lsmr` in exact arithmetic.
 */
export function lsmrDiagonal(d: Float64Array, b: Float64Array, maxIterations: number): Float64Array {
  const half = d.length
  const n = 2 * half
  const x = new Float64Array(n)
  const u = new Float64Array(n)
  const v = new Float64Array(n)
  const h = new Float64Array(n)
  const hBar = new Float64Array(n)
  let beta = norm(b)
  if (beta === 0) return x
  let alpha2 = 0
  for (let i = 0; i < n; i++) {
    const ui = (b[i] as number) / beta
    u[i] = ui
    const vi = (d[i < half ? i : i - half] as number) * ui
    v[i] = vi
    alpha2 += vi * vi
  }
  let alpha = Math.sqrt(alpha2)
  if (alpha === 0) return x
  for (let i = 0; i < n; i++) {
    v[i] = (v[i] as number) / alpha
    h[i] = v[i] as number
  }
  const rotations = new LsmrRotations(alpha, beta)
  for (let k = 0; k < maxIterations; k++) {
    let beta2 = 0
    for (let i = 0; i < n; i++) {
      const t = (d[i < half ? i : i - half] as number) * (v[i] as number) - alpha * (u[i] as number)
      u[i] = t
      beta2 += t * t
    }
    beta = Math.sqrt(beta2)
    const inverseBeta = beta > 0 ? 1 / beta : 0
    alpha2 = 0
    for (let i = 0; i < n; i++) {
      const ui = (u[i] as number) * inverseBeta
      u[i] = ui
      const s = (d[i < half ? i : i - half] as number) * ui - beta * (v[i] as number)
      v[i] = s
      alpha2 += s * s
    }
    alpha = Math.sqrt(alpha2)
    const scale = rotations.step(beta, alpha)
    const inverseAlpha = alpha > 0 ? 1 / alpha : 0
    for (let i = 0; i < n; i++) {
      const vi = (v[i] as number) * inverseAlpha
      v[i] = vi
      const hb = (h[i] as number) - scale.hBar * (hBar[i] as number)
      hBar[i] = hb
      x[i] = (x[i] as number) + scale.x * hb
      h[i] = vi - scale.h * (h[i] as number)
    }
    if (alpha === 0 || beta === 0) break
  }
  return x
}
