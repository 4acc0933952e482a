// Three kinds of failure, kept apart so each is handled in one place:
// - ConfigError: the user's mistake (bad option, unreadable file, impossible size). The CLI
//   prints its message on one line and exits non-zero, with no stack trace.
// - GuestError: something the guest did (a bad descriptor, a register write out of range).
//   The device that catches it answers the guest with an error, logs once, and goes on.
// - Anything else is our bug, and is allowed to crash loudly.

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** A file the user named could not be used (missing, unreadable, truncated, too big). */
export class FileError extends ConfigError {
  override name = "FileError";
}

/**
 * A failure kvmtool reports with die(), which scripts and test harnesses match as printed:
 * "  Fatal: <message>", exit status 128 (kvmtool's util.c). The message is kvmtool's words.
 */
export class FatalError extends ConfigError {
  override name = "FatalError";
}

export class GuestError extends Error {
  override name = "GuestError";
}
