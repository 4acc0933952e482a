#!/usr/bin/env bash
# Fetch the default guest: Debian's arm64 kernel (raw Image + modules) and a static busybox.
#
#   bash tools/fetch-guest.sh CACHE_DIR
#
# Leaves in CACHE_DIR: Image, modules/ (the /lib/modules/<kver> tree), busybox,
# kernel-version, and the .debs in debs/. Idempotent: when everything is present it touches
# neither apt nor the network, so `make test` stays fast and works offline after one fetch.
set -euo pipefail

die() { echo "guest: error: $*" >&2; exit 1; }

[ $# -eq 1 ] || die "usage: fetch-guest.sh CACHE_DIR"
CACHE=$1
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo

if [ -s "$CACHE/Image" ] && [ -x "$CACHE/busybox" ] && [ -s "$CACHE/kernel-version" ] \
   && [ -d "$CACHE/modules/kernel" ]; then
  echo "guest: kernel $(cat "$CACHE/kernel-version"), modules and busybox already present in $CACHE"
  exit 0
fi

for tool in apt-get apt-cache dpkg dpkg-deb; do
  command -v "$tool" >/dev/null || die "$tool not found (a Debian-based host is required)"
done

# The arm64 packages are only visible once the foreign architecture is known to dpkg and
# its package lists have been fetched.
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  echo "guest: adding the arm64 dpkg architecture"
  $SUDO dpkg --add-architecture arm64 || die "dpkg --add-architecture arm64 failed"
  $SUDO apt-get update -q >/dev/null || die "apt-get update failed"
elif ! apt-cache show busybox-static:arm64 >/dev/null 2>&1; then
  echo "guest: refreshing the apt package lists"
  $SUDO apt-get update -q >/dev/null || die "apt-get update failed"
fi

# linux-image-arm64 is a metapackage; its candidate version depends on exactly one
# versioned image package, which is what carries the kernel and modules.
KPKG=$(apt-cache depends linux-image-arm64:arm64 2>/dev/null \
       | sed -n 's/^ *Depends: \(linux-image-[0-9][^:]*-arm64\)\(:arm64\)\{0,1\}$/\1/p' | head -n1)
[ -n "$KPKG" ] || die "cannot resolve linux-image-arm64:arm64 to a versioned kernel package"

mkdir -p "$CACHE/debs"
CACHE=$(cd "$CACHE" && pwd)

# apt-get download writes into the current directory; skip packages whose .deb is already
# there (any version of the same package name counts, so a half-finished run resumes).
download() {
  local pkg=$1
  if compgen -G "$CACHE/debs/${pkg}_*_arm64.deb" >/dev/null; then
    echo "guest: $pkg already downloaded"
  else
    echo "guest: downloading $pkg"
    # As root, apt warns that _apt cannot write the directory and downloads unsandboxed;
    # that is harmless, so filter it (and the Get: chatter) out.
    (cd "$CACHE/debs" && apt-get download -q "$pkg:arm64" 2>&1 \
      | grep -v -e 'as root as file' -e '^Get:' -e '^Fetched' -e '^$' >&2 || true)
    compgen -G "$CACHE/debs/${pkg}_*_arm64.deb" >/dev/null || die "apt-get download $pkg:arm64 failed"
  fi
}
download "$KPKG"
download busybox-static

SCRATCH=$(mktemp -d "$CACHE/.unpack.XXXXXX")
trap 'rm -rf "$SCRATCH"' EXIT

echo "guest: unpacking $KPKG"
KDEB=$(compgen -G "$CACHE/debs/${KPKG}_*_arm64.deb" | sort | tail -n1)
BDEB=$(compgen -G "$CACHE/debs/busybox-static_*_arm64.deb" | sort | tail -n1)
dpkg-deb -x "$KDEB" "$SCRATCH/k" || die "cannot unpack $KDEB"
dpkg-deb -x "$BDEB" "$SCRATCH/b" || die "cannot unpack $BDEB"

# Debian 12 merges /lib into /usr/lib only at install time, so look in both places.
MODROOT=""
for d in "$SCRATCH/k/lib/modules" "$SCRATCH/k/usr/lib/modules"; do
  [ -d "$d" ] && MODROOT=$d && break
done
[ -n "$MODROOT" ] || die "no lib/modules directory in $KDEB"
KVER=$(ls "$MODROOT" | head -n1)
[ -n "$KVER" ] || die "no kernel version directory under lib/modules in $KDEB"
VMLINUZ=$SCRATCH/k/boot/vmlinuz-$KVER
[ -f "$VMLINUZ" ] || die "no boot/vmlinuz-$KVER in $KDEB"

# Our loader wants the raw arm64 Image. Debian's vmlinuz is either gzip'd Image or (newer
# kernels) an EFI zboot PE whose header names the compressed payload's offset and size.
magic_at() { od -An -tx1 -j "$2" -N "$3" "$1" | tr -d ' \n'; }
decompress() { # $1 = compression name, stdin -> stdout
  case $1 in
    gzip) gzip -dc ;;
    xz|lzma) xz -dc ;;
    zstd) command -v zstd >/dev/null || die "zstd is needed to unpack this kernel"; zstd -dc ;;
    *) die "unsupported kernel compression: $1" ;;
  esac
}
IMG=$SCRATCH/Image
case $(magic_at "$VMLINUZ" 0 2) in
  1f8b) gzip -dc "$VMLINUZ" >"$IMG" || die "cannot gunzip $VMLINUZ" ;;
  4d5a) # "MZ": a PE file; EFI zboot has "zimg" at offset 4.
    if [ "$(magic_at "$VMLINUZ" 4 4)" = 7a696d67 ]; then
      le32() { od -An -tu4 -j "$2" -N 4 --endian=little "$1" | tr -d ' '; }
      OFF=$(le32 "$VMLINUZ" 8); SIZE=$(le32 "$VMLINUZ" 12)
      COMP=$(dd if="$VMLINUZ" bs=1 skip=24 count=32 status=none | tr -d '\0')
      tail -c +"$((OFF + 1))" "$VMLINUZ" | head -c "$SIZE" | decompress "$COMP" >"$IMG" \
        || die "cannot extract the $COMP payload of EFI zboot $VMLINUZ"
    else
      cp "$VMLINUZ" "$IMG" # an uncompressed Image is itself a PE file (EFI stub)
    fi ;;
  *) cp "$VMLINUZ" "$IMG" ;;
esac
[ "$(magic_at "$IMG" 56 4)" = 41524d64 ] || die "$VMLINUZ does not contain an arm64 Image (no ARM\\x64 magic at 0x38)"

BB=$SCRATCH/b/bin/busybox
[ -f "$BB" ] || die "no bin/busybox in $BDEB"

# The .deb has no modules.dep (the postinst runs depmod); generate it so the initramfs
# builder can pull in module dependencies. depmod only reads ELF, so the host's works.
DEPMOD=$(command -v depmod || echo /sbin/depmod)
if [ ! -s "$MODROOT/$KVER/modules.dep" ] && [ -x "$DEPMOD" ]; then
  "$DEPMOD" -b "${MODROOT%/lib/modules}" "$KVER" 2>/dev/null \
    || echo "guest: warning: depmod failed; the initramfs builder will read module dependencies itself" >&2
fi

# Move everything into place last, so an interrupted run never looks complete.
rm -rf "$CACHE/modules" "$CACHE/Image" "$CACHE/busybox" "$CACHE/kernel-version"
mv "$MODROOT/$KVER" "$CACHE/modules"
install -m 0755 "$BB" "$CACHE/busybox"
echo "$KVER" >"$CACHE/kernel-version"
mv "$IMG" "$CACHE/Image"
echo "guest: kernel $KVER ($(du -h "$CACHE/Image" | cut -f1) Image), modules and busybox ready in $CACHE"
