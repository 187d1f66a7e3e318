#!/usr/bin/python3
"""A plain numpy QSM pipeline, the yardstick of bench/qsm.ts (run with Debian's /usr/bin/python3).

The same steps as @pacsflow/stage-qsm-native, written the obvious way with numpy's FFT:
Laplacian unwrapping of each echo (wrapped-difference Laplacian, Schofield & Zhu 2003 / Ghiglia &
Romero 1994), the magnitude^2-weighted least-squares fit of the field with a phase offset, V-SHARP
(Wu et al. 2012), TKD (Shmueli et al. 2009) and TV-ADMM (Bilgic et al., MRM 72:1444, 2014) started
from TKD. It reads the arrays bench/qsm.ts writes (raw float32, x fastest, and a JSON of the
parameters) and writes chi (raw float32) and the wall time of each step (JSON).

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


def main(folder):
    p = load(folder)
    voxel = p["voxelSizeMm"]
    timings = {}

    def step(name, work):
        started = time.perf_counter()
        result = work()
        timings[name] = round((time.perf_counter() - started) * 1000)
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
    with open(f"{folder}/timings.json", "w") as f:
        json.dump({"timings": timings, "numpy": np.__version__, "admmIterations": p.get("admmIterations", 100)}, f)


if __name__ == "__main__":
    main(sys.argv[1])
