// FFTs on typed arrays, FFT sizes and padding, and the dipole kernel: shared by the QSM engine and the synthetic exam.
export { checkVolume, fft1d, fft3d, ifft3d, type FftArray, type FftOptions, type Shape3 } from './fft3d.js'
export { cropVolume, fastShape, fftFrequencies, fftFrequency, nextFastSize, padVolume } from './sizes.js'
export { dipoleKernel } from './dipole.js'
export { halfShape, irfft3d, rfft3d, type HalfSpectrum } from './real-fft.js'
export { accumulateFiltered, axpy2, filterSpectrum, maskedDot, multiplyInPlace, weightedDivergence, xpby } from './spectral.js'
export { defaultFftThreads, fftArray, fftThreadStats, fftThreads, sharedCopy, startFftThreads, stopFftThreads, type SharedArray } from './threads.js'
