import { readFileSync } from "node:fs";
import { defineConfig, type Plugin } from "vitest/config";

/** Loads `import x from "….wasm"` as the file's bytes, as esbuild's binary loader does. */
function wasmBytes(): Plugin {
  return {
    name: "wasm-bytes",
    enforce: "pre",
    load(id) {
      if (!id.endsWith(".wasm")) return null;
      const b64 = readFileSync(id).toString("base64");
      return `export default Uint8Array.from(atob(${JSON.stringify(b64)}), (c) => c.charCodeAt(0));`;
    },
  };
}

export default defineConfig({
  plugins: [wasmBytes()],
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 300_000,
    // Two cores: keep the pool small so guest-running tests do not starve each other.
    maxWorkers: 2,
  },
});
