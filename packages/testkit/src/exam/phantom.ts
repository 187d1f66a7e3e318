// The numerical head: nested ellipsoids, deep grey nuclei, vessels and a calcification in head
// coordinates (mm, LPS axes, origin at the head's centre), classified point by point.
import { LABEL } from './tissues.js'

type Vec3 = readonly [number, number, number]

/** An ellipsoid, optionally turned about the superior (z) axis by `yawDegrees`. */
export interface EllipsoidShape {
  readonly kind: 'ellipsoid'
  readonly label: number
  readonly centre: Vec3
  readonly semiAxes: Vec3
  readonly yawDegrees?: number
}

/** A tube with round ends (a vessel): every point within `radius` of the segment from `from` to `to`. */
export interface TubeShape {
  readonly kind: 'tube'
  readonly label: number
  readonly from: Vec3
  readonly to: Vec3
  readonly radius: number
}

export type Shape = EllipsoidShape | TubeShape

/** The layers from the outside in; each is an ellipsoid, a point outside it gets the layer's outer label. */
export const HEAD = {
  /** Outside: air. Between head and skull: scalp. */
  head: { centre: [0, 0, 0], semiAxes: [72, 88, 66] },
  skullOuter: { centre: [0, 0, 0], semiAxes: [68, 84, 62] },
  /** Inside the skull: the dura; between dura and brain: extracerebral CSF. */
  dura: { centre: [0, 0, 7], semiAxes: [61, 75, 51] },
  /** The brain mask. */
  brain: { centre: [0, 0, 7], semiAxes: [59, 73, 49] },
} as const satisfies Record<string, { centre: Vec3; semiAxes: Vec3 }>

/**
 * Air in the head below the brain (a sphenoid sinus), the main local source of background field.
 * It lies 12 mm from the brain: closer, its field gradient in the brain would exceed π per voxel
 * at the last echo (a real scan loses that signal to dephasing, which this model does not simulate).
 */
export const SINUS: EllipsoidShape = { kind: 'ellipsoid', label: LABEL.sinus, centre: [0, -20, -57], semiAxes: [10, 8, 5] }

/**
 * The cortex: a folded ribbon. Grey matter lies within `thicknessMm` of the brain surface (a
 * gyral crown: cortical thickness averages about 2.5 mm, Fischl & Dale, PNAS 2000, 97:11050) and,
 * along the sulci, down to `thicknessMm + sulcusDepthMm` (the two grey banks of a sulcus and its
 * fundus; sulci are 10 to 20 mm deep, Ono et al., Atlas of the Cerebral Sulci, 1990). The sulci
 * run where s = mean of sin(2πx/λx), sin(2πy/λy), sin(2πz/λz + φ) crosses zero (a connected,
 * curving network about λ/2 apart, gyri of ~10 mm); a sulcus's depth falls off linearly over
 * |s| < `sulcusWidth` (a V-shaped wedge of grey banks about 8 mm wide at the surface). Grey matter
 * makes about 37 % of the brain, as in vivo, while its boundary with white matter is folded on a scale of
 * millimetres: an earlier smooth 3 to 13 mm shell over a uniform white-matter body made the
 * grey/white contrast a nearly harmonic field inside the brain, which real folded cortex is not.
 * Depth is the normalised ellipsoid radius's distance from 1 times `scaleMm`.
 */
export const CORTEX = { thicknessMm: 2.5, sulcusDepthMm: 16, sulcusWidth: 0.5, scaleMm: 60, wavelengthsMm: [20, 22, 18], phaseZ: 0.7 } as const

/** Brain structures in priority order: the first shape containing a point gives its label. */
export const STRUCTURES: readonly Shape[] = [
  { kind: 'ellipsoid', label: LABEL.calcification, centre: [-30, -35, 30], semiAxes: [2.5, 2.5, 2.5] },
  { kind: 'tube', label: LABEL.straightSinus, from: [0, 28, 14], to: [0, 56, 34], radius: 2.2 },
  { kind: 'tube', label: LABEL.veins, from: [2.5, -5, 18], to: [2.5, 28, 14], radius: 1.3 }, // internal cerebral veins
  { kind: 'tube', label: LABEL.veins, from: [-2.5, -5, 18], to: [-2.5, 28, 14], radius: 1.3 },
  { kind: 'tube', label: LABEL.veins, from: [40, -30, 35], to: [46, 20, 30], radius: 1.3 }, // cortical veins
  { kind: 'tube', label: LABEL.veins, from: [-44, -10, 25], to: [-38, 35, 32], radius: 1.2 },
  { kind: 'ellipsoid', label: LABEL.redNucleus, centre: [4.5, 10, -4], semiAxes: [3.2, 3.2, 3.6] },
  { kind: 'ellipsoid', label: LABEL.redNucleus, centre: [-4.5, 10, -4], semiAxes: [3.2, 3.2, 3.6] },
  { kind: 'ellipsoid', label: LABEL.substantiaNigra, centre: [9, 6, -7], semiAxes: [3, 7.5, 2.6], yawDegrees: -25 },
  { kind: 'ellipsoid', label: LABEL.substantiaNigra, centre: [-9, 6, -7], semiAxes: [3, 7.5, 2.6], yawDegrees: 25 },
  { kind: 'ellipsoid', label: LABEL.globusPallidus, centre: [20, 0, 10], semiAxes: [3.5, 9, 6] },
  { kind: 'ellipsoid', label: LABEL.globusPallidus, centre: [-20, 0, 10], semiAxes: [3.5, 9, 6] },
  { kind: 'ellipsoid', label: LABEL.putamen, centre: [27, -4, 12], semiAxes: [4.5, 14, 9] },
  { kind: 'ellipsoid', label: LABEL.putamen, centre: [-27, -4, 12], semiAxes: [4.5, 14, 9] },
  { kind: 'ellipsoid', label: LABEL.ventricles, centre: [11, -2, 24], semiAxes: [5, 24, 7], yawDegrees: 8 }, // lateral
  { kind: 'ellipsoid', label: LABEL.ventricles, centre: [-11, -2, 24], semiAxes: [5, 24, 7], yawDegrees: -8 },
  { kind: 'ellipsoid', label: LABEL.ventricles, centre: [0, 4, 10], semiAxes: [1.8, 11, 7] }, // third
  { kind: 'ellipsoid', label: LABEL.caudate, centre: [17, -16, 18], semiAxes: [4.5, 9, 7] },
  { kind: 'ellipsoid', label: LABEL.caudate, centre: [-17, -16, 18], semiAxes: [4.5, 9, 7] },
  { kind: 'ellipsoid', label: LABEL.thalamus, centre: [10, 8, 12], semiAxes: [6, 13, 8] },
  { kind: 'ellipsoid', label: LABEL.thalamus, centre: [-10, 8, 12], semiAxes: [6, 13, 8] },
]

/** A shape prepared for fast tests: its bounding box and a containment test. */
interface PreparedShape {
  readonly label: number
  readonly min: Vec3
  readonly max: Vec3
  contains(x: number, y: number, z: number): boolean
}

function prepareEllipsoid(shape: EllipsoidShape): PreparedShape {
  const [cx, cy, cz] = shape.centre
  const [a, b, c] = shape.semiAxes
  const yaw = ((shape.yawDegrees ?? 0) * Math.PI) / 180
  const [cos, sin] = [Math.cos(yaw), Math.sin(yaw)]
  // The box of a yawed ellipse: half-widths sqrt((a cos)^2 + (b sin)^2) and sqrt((a sin)^2 + (b cos)^2).
  const hx = Math.hypot(a * cos, b * sin)
  const hy = Math.hypot(a * sin, b * cos)
  return {
    label: shape.label,
    min: [cx - hx, cy - hy, cz - c],
    max: [cx + hx, cy + hy, cz + c],
    contains: (x, y, z) => {
      const dx = x - cx
      const dy = y - cy
      const u = (cos * dx + sin * dy) / a
      const v = (-sin * dx + cos * dy) / b
      const w = (z - cz) / c
      return u * u + v * v + w * w <= 1
    },
  }
}

function prepareTube(shape: TubeShape): PreparedShape {
  const [ax, ay, az] = shape.from
  const [dx, dy, dz] = [shape.to[0] - ax, shape.to[1] - ay, shape.to[2] - az]
  const length2 = dx * dx + dy * dy + dz * dz
  const r = shape.radius
  return {
    label: shape.label,
    min: [Math.min(ax, shape.to[0]) - r, Math.min(ay, shape.to[1]) - r, Math.min(az, shape.to[2]) - r],
    max: [Math.max(ax, shape.to[0]) + r, Math.max(ay, shape.to[1]) + r, Math.max(az, shape.to[2]) + r],
    contains: (x, y, z) => {
      const t = Math.min(1, Math.max(0, ((x - ax) * dx + (y - ay) * dy + (z - az) * dz) / length2))
      const [px, py, pz] = [x - ax - t * dx, y - ay - t * dy, z - az - t * dz]
      return px * px + py * py + pz * pz <= r * r
    },
  }
}

const prepared: readonly PreparedShape[] = STRUCTURES.map((shape) => (shape.kind === 'tube' ? prepareTube(shape) : prepareEllipsoid(shape)))
const sinus = prepareEllipsoid(SINUS)

/** The squared normalised radius of a point in an axis-aligned ellipsoid (1 on its surface). */
function radius2(x: number, y: number, z: number, e: { centre: Vec3; semiAxes: Vec3 }): number {
  const u = (x - e.centre[0]) / e.semiAxes[0]
  const v = (y - e.centre[1]) / e.semiAxes[1]
  const w = (z - e.centre[2]) / e.semiAxes[2]
  return u * u + v * v + w * w
}

const TWO_PI = 2 * Math.PI
const [LX, LY, LZ] = CORTEX.wavelengthsMm

/** The depth (mm below the brain surface) down to which the cortex reaches at this point. */
function greyDepthMm(x: number, y: number, z: number): number {
  const s = (Math.sin((TWO_PI * x) / LX) + Math.sin((TWO_PI * y) / LY) + Math.sin((TWO_PI * z) / LZ + CORTEX.phaseZ)) / 3
  const sulcus = Math.max(0, 1 - Math.abs(s) / CORTEX.sulcusWidth)
  return CORTEX.thicknessMm + CORTEX.sulcusDepthMm * sulcus
}

/** The label of a point in head coordinates (mm, LPS axes). */
export function classify(x: number, y: number, z: number): number {
  if (radius2(x, y, z, HEAD.head) > 1) return LABEL.air
  if (sinus.contains(x, y, z)) return LABEL.sinus
  if (radius2(x, y, z, HEAD.skullOuter) > 1) return LABEL.scalp
  if (radius2(x, y, z, HEAD.dura) > 1) return LABEL.skull
  const brain = radius2(x, y, z, HEAD.brain)
  if (brain > 1) return LABEL.outerCsf
  for (const shape of prepared) {
    if (x < shape.min[0] || x > shape.max[0] || y < shape.min[1] || y > shape.max[1] || z < shape.min[2] || z > shape.max[2]) continue
    if (shape.contains(x, y, z)) return shape.label
  }
  const depthMm = (1 - Math.sqrt(brain)) * CORTEX.scaleMm
  return depthMm < greyDepthMm(x, y, z) ? LABEL.greyMatter : LABEL.whiteMatter
}

/** The geometry as plain JSON, for truth.json. */
export function phantomDescription(): Record<string, unknown> {
  return {
    coordinates: 'head coordinates: mm along patient LPS axes, origin at the head centre (placed at headCentreLps in the world)',
    layers: HEAD,
    sinus: SINUS,
    cortex: CORTEX,
    structures: STRUCTURES,
    priority: 'outside head: air; in the sinus: air; outside skullOuter: scalp; outside dura: skull; outside brain: extracerebral CSF; then the first structure containing the point; then cortex or white matter',
  }
}
