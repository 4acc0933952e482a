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

/**
 * The suites, by what they need and how long they take (test/README.md). Run one alone with
 * `npx vitest run --project unit`; `make test` runs them all.
 */
const SUITES: Record<string, { include: string[]; exclude?: string[] }> = {
  // In-process, seconds: devices, parsers, the core and the JIT on small programs, fuzz seeds.
  unit: {
    include: ["test/**/*.test.ts"],
    exclude: ["test/**/*.diff.test.ts", "test/diff/**", "test/jit/diff.test.ts", "test/jit/guests.test.ts", "test/machine/**", "test/cli/**", "test/ipc/commands.test.ts", "test/boot/**"],
  },
  // Instruction semantics against qemu-aarch64 (Debian's qemu-user), minutes.
  differential: { include: ["test/**/*.diff.test.ts", "test/diff/**/*.test.ts", "test/jit/diff.test.ts"] },
  // bin/lkvm and the bare-metal programs of test/guests, as a user runs them.
  guests: { include: ["test/machine/**/*.test.ts", "test/cli/**/*.test.ts", "test/ipc/commands.test.ts", "test/jit/guests.test.ts"] },
  // Debian's kernel and busybox (make guest).
  boot: { include: ["test/boot/**/*.test.ts"] },
};

export default defineConfig({
  plugins: [wasmBytes()],
  test: {
    globalSetup: ["test/support/global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 300_000,
    // Two cores: keep the pool small so guest-running tests do not starve each other.
    maxWorkers: 2,
    projects: Object.entries(SUITES).map(([name, files]) => ({
      extends: true,
      test: { name, include: files.include, exclude: files.exclude },
    })),
  },
});
