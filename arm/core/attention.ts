// A flag the run loop tests between instructions: set whenever something outside the
// instruction stream may need handling (an interrupt line or mask changed, the timer was
// reprogrammed, an illegal exception return), and kept raised while a breakpoint, watchpoint or
// software step is armed (debug.ts) or the PMU counts per instruction (pmu.ts). Keeps the
// per-instruction check to one load.

export let attention: bool = true;
/**
 * Something asked for the between-instruction checks (timer outputs, pending interrupts) since
 * they last found nothing to do. While debug or the PMU keeps `attention` raised for their own
 * per-instruction work, the loop runs those checks only when this is set.
 */
export let attentionRequested: bool = true;

@inline export function requestAttention(): void {
  attention = true;
  attentionRequested = true;
}

/** The checks found nothing to do; `attention` stays raised if something needs every instruction. */
@inline export function settleAttention(keepRaised: bool): void {
  attentionRequested = false;
  if (!keepRaised) attention = false;
}
