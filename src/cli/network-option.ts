// `-n/--network`: kvmtool's comma list of key=value pairs (virtio/net.c netdev_parser), one NIC
// per -n, plus QEMU's `hostfwd=` for port forwarding, which kvmtool lacks.
//
// kvmtool's rules kept: keys and values alternate between ',' and '='; `mode=none` ends that -n
// and stops the implicit NIC, but not NICs other -n add; only one user-mode NIC; the guest MAC
// defaults to 02:15:15:15:15:15 plus the number of NICs before it. Where lkvm differs: an
// explicit -n is user mode unless it names tap things (tapif, script, fd) — kvmtool defaults to
// tap, which lkvm cannot open (below); an unknown trans= is refused, not warned about.

import { ConfigError } from "../errors.ts";
import { formatIpv4, parseIpv4, parseMac, type Mac } from "../net/addresses.ts";
import type { HostForward } from "../net/host-forward.ts";
import { USER_NET_HOST_MAC, USER_NET_NETMASK } from "../net/user-network.ts";

export const DEFAULT_GUEST_IP = "192.168.33.15";
export const DEFAULT_HOST_IP = "192.168.33.1";
export const DEFAULT_GUEST_MAC = "02:15:15:15:15:15";
/** Where a hostfwd listens when the rule names no host address (QEMU listens on all). */
export const DEFAULT_HOSTFWD_ADDRESS = "127.0.0.1";

export const TAP_REFUSAL =
  "-n mode=tap: tap networking needs the TUNSETIFF ioctl on /dev/net/tun, which lkvm cannot open without native code (Node.js has no ioctl); use mode=user (the default), with hostfwd= for inbound connections";

export interface NicConfig {
  mode: "user";
  guestIp: number;
  hostIp: number;
  guestMac: Mac;
  hostMac: Mac;
  /** trans=: this NIC's virtio transport; undefined: --virtio-transport's. */
  transport?: "mmio" | "pci";
  hostForwards: HostForward[];
}

const KNOWN_KEYS = new Set(["mode", "guest_ip", "host_ip", "guest_mac", "trans", "tapif", "script", "downscript", "vhost", "fd", "mq", "hostfwd"]);

/** The NICs the -n options ask for (kvmtool's implicit one when there is no -n). */
export function parseNetworkOptions(args: readonly string[]): NicConfig[] {
  const nics: NicConfig[] = [];
  let noNet = false;
  for (const arg of args) {
    const nic = parseOne(arg, nics.length);
    if (nic === "none") noNet = true;
    else {
      if (nics.some((n) => n.mode === "user")) throw new ConfigError(`-n ${arg}: only one user-mode network device is allowed at a time`);
      nics.push(nic);
    }
  }
  if (args.length === 0 && !noNet) nics.push(parseOne("mode=user", 0) as NicConfig);
  return nics;
}

function parseOne(arg: string, index: number): NicConfig | "none" {
  const tokens = arg.split(/[,=]/).filter((t) => t !== "");
  const kv: [string, string][] = [];
  for (let i = 0; i < tokens.length; i += 2) {
    const key = tokens[i]!;
    const value = tokens[i + 1];
    if (!KNOWN_KEYS.has(key)) throw new ConfigError(`-n ${arg}: unknown network parameter '${key}' (expected mode, guest_ip, host_ip, guest_mac, trans, tapif, script, downscript, vhost, fd, mq or hostfwd)`);
    if (value === undefined) throw new ConfigError(`-n ${arg}: '${key}' needs a value (${key}=...)`);
    // kvmtool stops reading this -n at mode=none.
    if (key === "mode" && value.startsWith("none")) return "none";
    kv.push([key, value]);
  }
  const get = (key: string) => kv.filter(([k]) => k === key).map(([, v]) => v);
  const last = (key: string) => get(key).at(-1);

  const modeText = last("mode");
  let mode: "user" | "tap";
  if (modeText === undefined) mode = ["tapif", "script", "fd"].some((k) => last(k) !== undefined) ? "tap" : "user";
  else if (modeText.startsWith("user")) mode = "user";
  else if (modeText.startsWith("tap")) mode = "tap";
  else throw new ConfigError(`-n ${arg}: unknown network mode '${modeText}', please use user, tap or none`);
  if (mode === "tap") throw new ConfigError(TAP_REFUSAL);
  for (const k of ["tapif", "script", "downscript", "fd"]) {
    if (last(k) !== undefined) throw new ConfigError(`-n ${arg}: ${k}= is for tap networking; mode=user has no tap device`);
  }
  if (last("vhost") !== undefined && last("vhost") !== "0") throw new ConfigError(`-n ${arg}: vhost needs /dev/vhost-net, which lkvm cannot drive (it has no host kernel acceleration)`);
  const mq = last("mq");
  if (mq !== undefined && !/^[01]$/.test(mq)) throw new ConfigError(`-n ${arg}: mq=${mq}: lkvm's virtio-net has one queue pair`);

  const guestIp = ipv4(arg, "guest_ip", last("guest_ip") ?? DEFAULT_GUEST_IP);
  const hostIp = ipv4(arg, "host_ip", last("host_ip") ?? DEFAULT_HOST_IP);
  if (guestIp === hostIp) throw new ConfigError(`-n ${arg}: guest_ip and host_ip are both ${formatIpv4(guestIp)}`);
  if ((guestIp & USER_NET_NETMASK) !== (hostIp & USER_NET_NETMASK)) {
    throw new ConfigError(`-n ${arg}: guest_ip ${formatIpv4(guestIp)} and host_ip ${formatIpv4(hostIp)} are not in one /24 (the user-mode network's netmask is 255.255.255.0)`);
  }

  let guestMac: Mac;
  const macText = last("guest_mac");
  if (macText !== undefined) {
    const m = parseMac(macText);
    if (!m) throw new ConfigError(`-n ${arg}: invalid guest_mac '${macText}': expected six hex bytes separated by ':'`);
    if (m[0]! & 1) throw new ConfigError(`-n ${arg}: guest_mac ${macText} is a multicast address`);
    guestMac = m;
  } else {
    guestMac = parseMac(DEFAULT_GUEST_MAC)!;
    guestMac[5] = (guestMac[5]! + index) & 0xff;
  }

  const trans = last("trans");
  if (trans !== undefined && trans !== "mmio" && trans !== "pci") throw new ConfigError(`-n ${arg}: unknown transport trans=${trans}: expected mmio or pci`);

  const hostForwards = get("hostfwd").map((rule) => parseHostForward(arg, rule, guestIp));
  const seen = new Set<string>();
  for (const f of hostForwards) {
    const key = `${f.protocol}:${f.hostAddress}:${f.hostPort}`;
    if (seen.has(key)) throw new ConfigError(`-n ${arg}: two hostfwd rules listen on ${key}`);
    seen.add(key);
  }
  return { mode, guestIp, hostIp, guestMac, hostMac: parseMac(USER_NET_HOST_MAC)!, transport: trans, hostForwards };
}

function ipv4(arg: string, key: string, text: string): number {
  const ip = parseIpv4(text);
  if (ip === undefined) throw new ConfigError(`-n ${arg}: invalid ${key} '${text}': expected an IPv4 address such as ${DEFAULT_GUEST_IP}`);
  return ip;
}

/** QEMU's `[tcp|udp]:[hostaddr]:hostport-[guestaddr]:guestport`. */
export function parseHostForward(arg: string, rule: string, guestIp: number): HostForward {
  const m = /^(?:(tcp|udp):)?([^:-]*):(\d{1,5})-([^:-]*):(\d{1,5})$/.exec(rule);
  const bad = (why: string) => new ConfigError(`-n ${arg}: invalid hostfwd '${rule}': ${why}`);
  if (!m) throw bad("expected [tcp|udp]:[hostaddr]:hostport-[guestaddr]:guestport, e.g. tcp:127.0.0.1:2222-:22");
  const hostAddress = m[2] === "" ? DEFAULT_HOSTFWD_ADDRESS : m[2]!;
  if (parseIpv4(hostAddress) === undefined) throw bad(`host address '${hostAddress}' is not an IPv4 address`);
  if (m[4] !== "" && parseIpv4(m[4]!) !== guestIp) throw bad(`guest address ${m[4]} is not the guest's (${formatIpv4(guestIp)})`);
  const hostPort = Number(m[3]);
  const guestPort = Number(m[5]);
  if (hostPort < 1 || hostPort > 65535 || guestPort < 1 || guestPort > 65535) throw bad("ports are 1-65535");
  return { protocol: (m[1] ?? "tcp") as "tcp" | "udp", hostAddress, hostPort, guestPort };
}
