#!/usr/bin/python3
"""A plain numpy QSM pipeline, the yardstick of bench/qsm.ts (run with Debian's /usr/bin/python3).

The same steps as @pacsflow/stage-qsm-native, written the obvious way with numpy's FFT:
Laplacian unwrapping of each echo (wrapped-difference Laplacian, Schofield & Zhu 2003 / Ghiglia &
Romero 1994), the magnitude^2-weighted least-squares fit of the field with a phase offset, V-SHARP
(Wu et al. 2012), TKD (Shmueli et al. 2009) and TV-ADMM (Bilgic et al., MRM 72:1444, 2014) started
from TKD. It reads the arrays bench/qsm.ts writes (raw float32, x fastest, and a JSON of the
parameters) and writes chi (raw float32) and the wall time of each step (JSON).

When the JSON has "singleStep", it also runs the single-step QSM of the native engine
(packages/stage-qsm-native/src/single-step.ts) step for step, on the arrays the bench wrote for it
(the fitted field in ppm, the brain mask and the field weights, all on the engine's box, float64 /
uint8, x fastest): SMV high-pass (1 - S_r) on field and model, each voxel served by the largest
radius whose ball fits in the mask, data weights normalised to their (histogram) median and capped
at 3, isotropic TV by IRLS (first reweighting with epsilon 1e-3), each system by CG preconditioned
with its k-space diagonal, in a box 2 voxels around the mask; then D chi on the engine's box. Its
FFTs are scipy.fft's real FFTs on as many workers as the native FFTs have threads (Debian's
python3-scipy; the other steps use numpy.fft on one thread). Writes single-step-chi.raw (float64,
the engine's box, not referenced).

Usage: /usr/bin/python3 bench/qsm_reference.py <folder>
"""
import json
import sys
import time

import numpy as np

TWO_PI = 2 * np.pi


def load(folder):
    with open(f"{folder}/input.json") as f:
        p = json.load(f)
    shape = tuple(p["shape"][::-1])  # (z, y, x): C order with x fastest

    def volume(name):
        return np.fromfile(f"{folder}/{name}", dtype=np.float32).reshape(shape).astype(np.float64)

    p["magnitudes"] = [volume(f"mag{e}.raw") for e in range(len(p["echoTimesMs"]))]
    p["phases"] = [volume(f"phase{e}.raw") for e in range(len(p["echoTimesMs"]))]
    p["mask"] = volume("mask.raw") > 0.5
    return p


def frequencies(shape, voxel):
    """k (cycles/mm) along z, y, x, broadcastable."""
    kz = np.fft.fftfreq(shape[0], voxel[2]).reshape(-1, 1, 1)
    ky = np.fft.fftfreq(shape[1], voxel[1]).reshape(1, -1, 1)
    kx = np.fft.fftfreq(shape[2], voxel[0]).reshape(1, 1, -1)
    return kz, ky, kx


def laplace_kernel(shape, voxel):
    """Eigenvalues of minus the 7-point Laplacian (periodic)."""
    out = np.zeros(shape)
    for axis, h in zip(range(3), (voxel[2], voxel[1], voxel[0])):
        n = shape[axis]
        k = 2 - 2 * np.cos(2 * np.pi * np.arange(n) / n)
        s = [1, 1, 1]
        s[axis] = n
        out = out + k.reshape(s) / h**2
    return out


def wrap(d):
    return d - TWO_PI * np.round(d / TWO_PI)


def unwrap_laplacian(phase, voxel, kernel):
    lap = np.zeros_like(phase)
    for axis, h in zip(range(3), (voxel[2], voxel[1], voxel[0])):
        d = wrap(np.roll(phase, -1, axis) - phase) / h**2
        lap += d - np.roll(d, 1, axis)
    spectrum = np.fft.fftn(lap)
    with np.errstate(divide="ignore", invalid="ignore"):
        inverse = np.where(kernel == 0, 0, -1 / kernel)
    return np.real(np.fft.ifftn(spectrum * inverse))


def fit_field(phases, magnitudes, tes_ms):
    te = np.array(tes_ms) / 1000
    w = np.stack([m**2 for m in magnitudes])
    p = np.stack(phases)
    t = te.reshape(-1, 1, 1, 1)
    sw, st, sp = w.sum(0), (w * t).sum(0), (w * p).sum(0)
    stt, stp = (w * t * t).sum(0), (w * t * p).sum(0)
    det = sw * stt - st * st
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = np.where(det > 0, (sw * stp - st * sp) / det, 0)
    return slope / TWO_PI


def sphere_kernel(shape, voxel, radius):
    zz, yy, xx = [np.fft.fftfreq(n, 1 / n) for n in shape]
    d2 = (zz.reshape(-1, 1, 1) * voxel[2]) ** 2 + (yy.reshape(1, -1, 1) * voxel[1]) ** 2 + (xx.reshape(1, 1, -1) * voxel[0]) ** 2
    ball = (d2 <= radius**2).astype(np.float64)
    return np.real(np.fft.fftn(ball / ball.sum()))


def vsharp(field, mask, voxel, radii, threshold=0.05):
    spectrum = np.fft.fftn(field * mask)
    mask_spectrum = np.fft.fftn(mask.astype(np.float64))
    local = np.zeros_like(field)
    previous = np.zeros(mask.shape, bool)
    inverse = None
    for i, r in enumerate(sorted(radii, reverse=True)):
        s = sphere_kernel(field.shape, voxel, r)
        eroded = np.real(np.fft.ifftn(mask_spectrum * s)) > 1 - 1e-6
        if i == 0:
            with np.errstate(divide="ignore"):
                inverse = np.where(np.abs(1 - s) < threshold, 0, 1 / (1 - s))
        filtered = np.real(np.fft.ifftn((1 - s) * spectrum))
        new = eroded & ~previous
        local[new] = filtered[new]
        previous = eroded
    local = np.real(np.fft.ifftn(np.fft.fftn(local) * inverse)) * previous
    return local, previous


def dipole_kernel(shape, voxel, b0):
    kz, ky, kx = frequencies(shape, voxel)
    b = np.array(b0) / np.linalg.norm(b0)
    k2 = kx**2 + ky**2 + kz**2
    with np.errstate(divide="ignore", invalid="ignore"):
        d = 1 / 3 - (kx * b[0] + ky * b[1] + kz * b[2]) ** 2 / k2
    d[0, 0, 0] = 0
    return d


def tkd(local, mask, d, threshold=0.15):
    inverse = np.where(np.abs(d) >= threshold, 1 / np.where(d == 0, 1, d), np.sign(d) / threshold)
    return np.real(np.fft.ifftn(np.fft.fftn(local) * inverse)) * mask


def gradient(x, voxel):
    return [(np.roll(x, -1, axis) - x) / h for axis, h in zip((2, 1, 0), voxel)]


def gradient_adjoint(g, voxel):
    return sum((np.roll(gi, 1, axis) - gi) / h for gi, axis, h in zip(g, (2, 1, 0), voxel))


def tv_admm(local, mask, d, laplacian, x0, voxel, lam=3e-4, rho=1e-2, iterations=100):
    """min ||F^-1 D F x - f||^2 + lam ||grad x||_1 by ADMM (Bilgic et al. 2014), started from x0."""
    data = d * np.fft.fftn(local * mask)
    denominator = d * d + rho * laplacian
    denominator[denominator == 0] = 1
    z = gradient(x0, voxel)
    u = [np.zeros_like(x0) for _ in range(3)]
    x = x0
    for _ in range(iterations):
        rhs = data + rho * np.fft.fftn(gradient_adjoint([zi - ui for zi, ui in zip(z, u)], voxel))
        x = np.real(np.fft.ifftn(rhs / denominator))
        g = gradient(x, voxel)
        z = [np.sign(gi + ui) * np.maximum(np.abs(gi + ui) - lam / rho, 0) for gi, ui in zip(g, u)]
        u = [ui + gi - zi for ui, gi, zi in zip(u, g, z)]
    return x * mask


# ---------------------------------------------------------------- single-step QSM, as single-step.ts
# Arrays here are indexed [z, y, x] (x fastest on disk) and the voxel size is [hx, hy, hz]; the half
# spectrum halves the last (x) axis, as rfft3d does. Constants not exported by the engine are copied
# from single-step.ts: START_EPSILON, TIGHT_MARGIN, WEIGHT_CAP.
SS_START_EPSILON = 1e-3
SS_TIGHT_MARGIN = 2
SS_WEIGHT_CAP = 3


class RealFft:
    """scipy.fft's real FFTs on a fixed number of workers (the native engine's FFT threads)."""

    def __init__(self, workers):
        import scipy.fft

        self.fft = scipy.fft
        self.workers = workers

    def forward(self, x):
        return self.fft.rfftn(x, workers=self.workers)

    def inverse(self, spectrum, shape):
        return self.fft.irfftn(spectrum, s=shape, workers=self.workers)


def next_fast_size(n):
    """The smallest 2^a 3^b 5^c >= n (nextFastSize of @pacsflow/imaging)."""
    best = None
    p5 = 1
    while p5 < 2 * n:
        p35 = p5
        while p35 < 2 * n:
            size = p35
            while size < n:
                size *= 2
            best = size if best is None else min(best, size)
            p35 *= 3
        p5 *= 5
    return best


def padded_box(mask, margin):
    """paddedBox of box.ts: the mask's bounding box plus `margin` voxels per side, grown to fast sizes
    and centred; returns the box shape and the slices of the covered part (in the grid, in the box)."""
    shape, grid, inside = [], [], []
    nonzero = np.nonzero(mask)
    for axis in range(3):
        lo, hi = int(nonzero[axis].min()), int(nonzero[axis].max()) + 1
        size = next_fast_size(hi - lo + 2 * margin)
        start = lo - (size - (hi - lo)) // 2
        s0, s1 = max(0, start), min(mask.shape[axis], start + size)
        shape.append(size)
        grid.append(slice(s0, s1))
        inside.append(slice(s0 - start, s1 - start))
    return tuple(shape), tuple(grid), tuple(inside)


def histogram_percentile(values, q):
    """percentile of brain-mask.ts: the upper edge of the 4096-bin histogram bin holding the q-quantile."""
    lo, hi = values.min(), values.max()
    if not hi > lo:
        return hi
    bins = 4096
    scale = bins / (hi - lo)
    index = np.minimum(bins - 1, np.floor((values - lo) * scale).astype(np.int64))
    seen = np.cumsum(np.bincount(index, minlength=bins))
    b = int(np.searchsorted(seen, q * values.size, side="left"))
    return hi if b >= bins else lo + (b + 1) / scale


def squared_distance_to(outside, voxel):
    """mm^2 from each voxel to the nearest `outside` voxel, exact (squaredDistance of morphology.ts)."""
    import scipy.ndimage as ndi

    h = (voxel[2], voxel[1], voxel[0])
    nearest = ndi.distance_transform_edt(~outside, sampling=h, return_distances=False, return_indices=True)
    out = np.zeros(outside.shape)
    for axis in (2, 1, 0):  # x, y, z: the order the engine sums them
        at = np.arange(outside.shape[axis]).reshape([-1 if a == axis else 1 for a in range(3)])
        out += h[axis] ** 2 * (nearest[axis] - at) ** 2
    return out


def half_frequencies(shape, voxel):
    """FFT frequencies (cycles/mm) along z, y, x on the half spectrum, broadcastable, and the signs of
    each in the mirrored point (-1 at an even axis's Nyquist index)."""
    out, signs = [], []
    for axis, (n, h) in enumerate(zip(shape, (voxel[2], voxel[1], voxel[0]))):
        count = n // 2 + 1 if axis == 2 else n
        i = np.arange(count)
        k = np.where(2 * i < n, i, i - n) / n / h  # fftFrequency(i, n) / h, rounded as the engine does
        s = np.ones(count)
        if n % 2 == 0 and n > 1 and n // 2 < count:
            s[n // 2] = -1
        form = [1, 1, 1]
        form[axis] = count
        out.append(k.reshape(form))
        signs.append(s.reshape(form))
    return out, signs


def dipole_half(shape, voxel, b0):
    """dipoleKernel of @pacsflow/imaging on the half spectrum (the Nyquist planes averaged over +-k)."""
    (kz, ky, kx), (sz, sy, sx) = half_frequencies(shape, voxel)
    b = np.array(b0, dtype=np.float64) / np.linalg.norm(b0)
    k2 = kx * kx + (ky * ky + kz * kz)
    dot = kx * b[0] + (ky * b[1] + kz * b[2])
    flipped = sx * kx * b[0] + (sy * ky * b[1] + sz * kz * b[2])
    with np.errstate(divide="ignore", invalid="ignore"):
        d = 1 / 3 - (dot * dot + flipped * flipped) / (2 * k2)
    d[k2 == 0] = 0
    return d


def negative_laplacian_half(shape, voxel):
    terms = []
    for axis, (n, h) in enumerate(zip(shape, (voxel[2], voxel[1], voxel[0]))):
        count = n // 2 + 1 if axis == 2 else n
        form = [1, 1, 1]
        form[axis] = count
        terms.append(((2 - 2 * np.cos(2 * np.pi * np.arange(count) / n)) / h**2).reshape(form))
    return terms[2] + (terms[1] + terms[0])


def sphere_half(shape, voxel, radius, fft):
    """sphereKernelHalf of kernels.ts: the spectrum of the mean over a ball (periodic offsets, mm)."""
    z, y, x = [np.where(2 * np.arange(n) < n, np.arange(n), np.arange(n) - n) * h for n, h in zip(shape, (voxel[2], voxel[1], voxel[0]))]
    d2 = x.reshape(1, 1, -1) ** 2 + y.reshape(1, -1, 1) ** 2 + z.reshape(-1, 1, 1) ** 2
    ball = (d2 <= radius * radius).astype(np.float64)
    return np.real(fft.forward(ball / ball.sum()))


def ss_gradient(x, voxel):
    """Forward differences, periodic, [gx, gy, gz] (gradient of gradient.ts)."""
    return [(np.roll(x, -1, axis) - x) * (1 / h) for axis, h in ((2, voxel[0]), (1, voxel[1]), (0, voxel[2]))]


def ss_gradient_adjoint(g, voxel):
    gx, gy, gz = g
    return (np.roll(gx, 1, 2) - gx) * (1 / voxel[0]) + (np.roll(gy, 1, 1) - gy) * (1 / voxel[1]) + (np.roll(gz, 1, 0) - gz) * (1 / voxel[2])


def ss_model(field, mask, weights, voxel, b0, radii, fft):
    """buildModel of single-step.ts: the per-radius kernels (1 - S_r) D and weights W^2 M_r, the
    right-hand side sum_r D (1 - S_r) W^2 M_r (1 - S_r) f, and the data term's k-space diagonal."""
    shape = field.shape
    median = histogram_percentile(weights[mask], 0.5)
    w = np.where(mask, np.minimum(SS_WEIGHT_CAP, np.maximum(0, weights / median)), 0)
    distance2 = squared_distance_to(~mask, voxel)
    d = dipole_half(shape, voxel, b0)
    spectrum = fft.forward(np.where(mask, field, 0))
    taken = np.zeros(shape, bool)
    hd, w2, total = [], [], None
    for radius in radii:
        served = mask & ~taken & (distance2 > radius * radius)
        if not served.any():
            continue
        taken |= served
        weight = np.where(served, w * w, 0)
        s = sphere_half(shape, voxel, radius, fft)
        h = (1 - s) * d
        term = fft.forward(fft.inverse((1 - s) * spectrum, shape) * weight) * h
        total = term if total is None else total + term
        hd.append(h)
        w2.append(weight)
    b = np.where(mask, fft.inverse(total, shape), 0)
    diagonal = sum(h * h for h in hd) * np.mean(w[mask] ** 2) / len(hd)
    return {"mask": mask, "hd": hd, "w2": w2, "b": b, "diagonal": diagonal, "laplacian": negative_laplacian_half(shape, voxel)}


def ss_apply(model, v, lam, x, voxel, fft):
    """applySystem: sum_r D (1 - S_r) W^2 M_r (1 - S_r) D x + lambda M G^T V G x."""
    shape = x.shape
    spectrum = fft.forward(x)
    total = None
    for h, weight in zip(model["hd"], model["w2"]):
        term = fft.forward(fft.inverse(h * spectrum, shape) * weight) * h
        total = term if total is None else total + term
    tv = ss_gradient_adjoint([g * v for g in ss_gradient(x, voxel)], voxel)
    return np.where(model["mask"], fft.inverse(total, shape) + lam * tv, 0)


def ss_pcg(model, v, lam, preconditioner, x, iterations, voxel, fft):
    """preconditionedCg: from x, a fixed number of steps (no tolerance)."""
    shape, mask = x.shape, model["mask"]
    precondition = lambda r: np.where(mask, fft.inverse(fft.forward(r) * preconditioner, shape), 0)
    r = model["b"] - ss_apply(model, v, lam, x, voxel, fft)
    z = precondition(r)
    p = z.copy()
    rz = np.vdot(r, z)
    for _ in range(iterations):
        if not rz > 0:
            break
        ap = ss_apply(model, v, lam, p, voxel, fft)
        pap = np.vdot(p, ap)
        if not pap > 0:
            break
        alpha = rz / pap
        x += alpha * p
        r -= alpha * ap
        z = precondition(r)
        following = np.vdot(r, z)
        p = z + (following / rz) * p
        rz = following
    return x


def single_step(field, mask, weights, voxel, b0, s):
    """singleStepQsm on the engine's box: chi (zero outside the mask, not referenced) and D chi in the mask."""
    fft = RealFft(s["threads"])
    radii = sorted(set(s["radiiMm"]), reverse=True)
    shape, grid, inside = padded_box(mask, SS_TIGHT_MARGIN)

    def tight(volume):
        out = np.zeros(shape, dtype=volume.dtype)
        out[inside] = volume[grid]
        return out

    tight_mask = tight(mask)
    model = ss_model(tight(field), tight_mask, tight(weights), voxel, b0, radii, fft)
    x = np.zeros(shape)
    lam = s["lambda"]
    largest = model["diagonal"].max()
    for k in range(s["reweightings"]):
        epsilon = SS_START_EPSILON if k == 0 else s["epsilon"]
        gx, gy, gz = ss_gradient(x, voxel)
        v = 1 / np.sqrt(gx**2 + gy**2 + gz**2 + epsilon)
        typical = histogram_percentile(v[tight_mask], 0.5)
        preconditioner = 1 / (model["diagonal"] + lam * typical * model["laplacian"] + 1e-9 * largest)
        preconditioner.flat[0] = preconditioner.flat[1]  # k = 0 takes its nearest frequency's value, as the engine
        x = ss_pcg(model, v, lam, preconditioner, x, s["iterations"], voxel, fft)
    chi = np.zeros(field.shape)
    chi[grid] = x[inside]
    local = np.where(mask, fft.inverse(fft.forward(chi) * dipole_half(field.shape, voxel, b0), field.shape), 0)
    return chi, local


def main(folder):
    p = load(folder)
    voxel = p["voxelSizeMm"]
    timings = {}
    cpu = {}

    def step(name, work):
        started = time.perf_counter()
        cpu_started = time.process_time()  # all threads of the process (scipy.fft's workers too)
        result = work()
        timings[name] = round((time.perf_counter() - started) * 1000)
        cpu[name] = round((time.process_time() - cpu_started) * 1000)
        return result

    shape = p["mask"].shape
    kernel = laplace_kernel(shape, voxel)
    unwrapped = step("unwrap", lambda: [unwrap_laplacian(ph, voxel, kernel) for ph in p["phases"]])
    field = step("fit", lambda: fit_field(unwrapped, p["magnitudes"], p["echoTimesMs"]) / p["larmorMHz"])
    local, mask = step("background", lambda: vsharp(field, p["mask"], voxel, p["vsharpRadiiMm"]))
    d = dipole_kernel(shape, voxel, p["b0DirectionVoxel"])
    x0 = step("tkd", lambda: tkd(local, mask, d))
    chi = step("tv-admm", lambda: tv_admm(local, mask, d, kernel, x0, voxel, iterations=p.get("admmIterations", 100)))
    chi = np.where(mask, chi - chi[mask].mean(), 0)
    chi.astype(np.float32).tofile(f"{folder}/chi.raw")
    versions = {"numpy": np.__version__}
    if "singleStep" in p:
        import scipy

        versions["scipy"] = scipy.__version__
        s = p["singleStep"]
        box = tuple(s["boxShape"][::-1])
        field = np.fromfile(f"{folder}/ss-field.raw", dtype=np.float64).reshape(box)
        box_mask = np.fromfile(f"{folder}/ss-mask.raw", dtype=np.uint8).reshape(box) == 1
        weights = np.fromfile(f"{folder}/ss-weights.raw", dtype=np.float64).reshape(box)
        ss_chi, _ = step("single-step", lambda: single_step(field, box_mask, weights, voxel, p["b0DirectionVoxel"], s))
        ss_chi.tofile(f"{folder}/single-step-chi.raw")
    import resource

    with open(f"{folder}/timings.json", "w") as f:
        json.dump({"timings": timings, "cpu": cpu, **versions, "admmIterations": p.get("admmIterations", 100), "maxRssMiB": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}, f)


if __name__ == "__main__":
    main(sys.argv[1])
