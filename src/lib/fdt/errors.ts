import { ConfigError } from "../../errors.ts";

/**
 * A device tree blob we were handed is malformed, or a tree cannot be laid out as asked.
 * It is the user's problem (a bad --dtb file, too small a DTB area), so it is a ConfigError:
 * one line, non-zero exit, no stack trace.
 */
export class FdtError extends ConfigError {
  override name = "FdtError";
}
