// Linux errno values for Rlerror (9P2000.L carries the guest's errno numbers, and the guest is
// arm64 Linux: asm-generic/errno-base.h and errno.h). Host errors arrive as Node's code names
// ("ENOENT"), which are translated here by name, so a non-Linux host still answers in Linux's
// numbers.

export const EPERM = 1;
export const ENOENT = 2;
export const EIO = 5;
export const EBADF = 9;
export const EAGAIN = 11;
export const ENOMEM = 12;
export const EACCES = 13;
export const EBUSY = 16;
export const EEXIST = 17;
export const EXDEV = 18;
export const ENODEV = 19;
export const ENOTDIR = 20;
export const EISDIR = 21;
export const EINVAL = 22;
export const ENFILE = 23;
export const EMFILE = 24;
export const EFBIG = 27;
export const ENOSPC = 28;
export const ESPIPE = 29;
export const EROFS = 30;
export const EMLINK = 31;
export const ERANGE = 34;
export const ENAMETOOLONG = 36;
export const ENOSYS = 38;
export const ENOTEMPTY = 39;
export const ELOOP = 40;
export const EPROTO = 71;
export const EOVERFLOW = 75;
export const EOPNOTSUPP = 95;
export const EDQUOT = 122;

const BY_CODE: Record<string, number> = {
  EPERM, ENOENT, EIO, EBADF, EAGAIN, ENOMEM, EACCES, EBUSY, EEXIST, EXDEV, ENODEV, ENOTDIR,
  EISDIR, EINVAL, ENFILE, EMFILE, EFBIG, ENOSPC, ESPIPE, EROFS, EMLINK, ERANGE, ENAMETOOLONG,
  ENOSYS, ENOTEMPTY, ELOOP, EPROTO, EOVERFLOW, EOPNOTSUPP, EDQUOT,
  ENOTSUP: EOPNOTSUPP,
  EWOULDBLOCK: EAGAIN,
};

/** An error to answer with Rlerror: the errno is Linux's. */
export class P9Errno extends Error {
  override name = "P9Errno";
  constructor(readonly errno: number, message = `errno ${errno}`) {
    super(message);
  }
}

/** The Linux errno for a host failure (a Node system error), EIO when it has no known code. */
export function linuxErrno(e: unknown): number {
  if (e instanceof P9Errno) return e.errno;
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return (code !== undefined && BY_CODE[code]) || EIO;
}

/** A request that would reach outside the share (or a host device): refused, and logged. */
export class ConfinementRefused extends P9Errno {
  override name = "ConfinementRefused";
}
