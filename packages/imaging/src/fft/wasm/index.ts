// The WebAssembly SIMD line plans of the FFT: what fft3d.ts needs to use them where the runtime has SIMD.
export { MAX_BATCH, WasmStockhamPlan, wasmLinePlan, wasmPlanePlan, wasmPlanSupported, wasmSimdAvailable, type WasmScratch } from './plan.js'
export { realRowCapacity, WasmRealRowPlan, wasmRealRowPlan, wasmRealRowsSupported, type RealArray } from './real-rows.js'
