// A flag the run loop tests between instructions: set whenever something outside the
// instruction stream may need handling (an interrupt line or mask changed, the timer was
// reprogrammed, an illegal exception return), and kept raised while a breakpoint, watchpoint or
// software step is armed (debug.ts). Keeps the per-instruction check to one load.

export let attention: bool = true;

@inline export function requestAttention(): void { attention = true; }
@inline export function clearAttention(): void { attention = false; }
