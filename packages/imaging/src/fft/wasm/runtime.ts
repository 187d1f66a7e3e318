// The few parts of the WebAssembly JS API the FFT kernels use, typed here: the package compiles against ES2023 + @types/node, which do not declare the `WebAssembly` global.

/** A `WebAssembly.Memory`: the plans never grow theirs, so `buffer` stays the same ArrayBuffer. */
export interface WasmMemory {
  readonly buffer: ArrayBuffer
}

/** A compiled `WebAssembly.Module` (opaque). */
export type WasmModule = object

export interface WasmInstance {
  readonly exports: Readonly<Record<string, unknown>>
}

export interface WasmApi {
  readonly Module: new (bytes: Uint8Array) => WasmModule
  readonly Instance: new (module: WasmModule, imports: Readonly<Record<string, Readonly<Record<string, unknown>>>>) => WasmInstance
  readonly Memory: new (descriptor: { readonly initial: number }) => WasmMemory
  validate(bytes: Uint8Array): boolean
}

/** The runtime's `WebAssembly` namespace, or undefined where there is none (e.g. `node --jitless`). */
export function webAssemblyApi(): WasmApi | undefined {
  return (globalThis as { WebAssembly?: WasmApi }).WebAssembly
}
