// The compiled core. esbuild embeds build/core.wasm into bin/lkvm (binary loader); vitest
// loads it from disk through the plugin in vitest.config.ts.
import coreWasmBytes from "../../build/core.wasm";

export const coreWasm: Uint8Array<ArrayBuffer> = coreWasmBytes;
