// -n/--network as src/cli/network-option.ts reads it: kvmtool's keys and defaults, QEMU's
// hostfwd, and the refusals (each a ConfigError).

import { describe, expect, it } from "vitest";
import { parseNetworkOptions } from "../../src/cli/network-option.ts";
import { ConfigError } from "../../src/errors.ts";
import { formatIpv4, formatMac } from "../../src/net/addresses.ts";

const summary = (args: string[]) =>
  parseNetworkOptions(args).map((n) => ({ guest: formatIpv4(n.guestIp), host: formatIpv4(n.hostIp), mac: formatMac(n.guestMac), trans: n.transport, fwd: n.hostForwards }));

describe("-n/--network", () => {
  it("without -n: kvmtool's one user-mode NIC, 192.168.33.15 behind 192.168.33.1, MAC 02:15:15:15:15:15", () => {
    expect(summary([])).toEqual([{ guest: "192.168.33.15", host: "192.168.33.1", mac: "02:15:15:15:15:15", trans: undefined, fwd: [] }]);
  });

  it("mode=none: no NIC; it stops only the implicit one, as in kvmtool", () => {
    expect(summary(["mode=none"])).toEqual([]);
    expect(summary(["mode=none", "mode=user"])).toHaveLength(1);
  });

  it("takes guest_ip, host_ip, guest_mac, trans and repeated hostfwd rules", () => {
    const [nic] = summary(["mode=user,guest_ip=10.0.2.15,host_ip=10.0.2.2,guest_mac=02:aa:bb:cc:dd:ee,trans=mmio,hostfwd=tcp::2222-:22,hostfwd=udp:0.0.0.0:5353-10.0.2.15:53"]);
    expect(nic).toEqual({
      guest: "10.0.2.15",
      host: "10.0.2.2",
      mac: "02:aa:bb:cc:dd:ee",
      trans: "mmio",
      fwd: [
        { protocol: "tcp", hostAddress: "127.0.0.1", hostPort: 2222, guestPort: 22 },
        { protocol: "udp", hostAddress: "0.0.0.0", hostPort: 5353, guestPort: 53 },
      ],
    });
  });

  it("is user mode when -n names no mode and nothing of tap's", () => {
    expect(summary(["guest_ip=192.168.33.20"])[0]!.guest).toBe("192.168.33.20");
  });

  it.each([
    ["mode=tap", /TUNSETIFF/],
    ["tapif=tap0", /TUNSETIFF/],
    ["mode=user,script=/etc/ifup", /for tap networking/],
    ["mode=bridge", /unknown network mode 'bridge'/],
    ["mode=user,colour=blue", /unknown network parameter 'colour'/],
    ["mode=user,guest_ip", /'guest_ip' needs a value/],
    ["guest_ip=300.1.1.1", /invalid guest_ip/],
    ["guest_ip=10.0.0.2,host_ip=10.0.1.1", /not in one \/24/],
    ["guest_mac=01:00:00:00:00:01", /multicast/],
    ["guest_mac=zz", /invalid guest_mac/],
    ["trans=virtio-ccw", /unknown transport/],
    ["vhost=1", /vhost-net/],
    ["mq=4", /one queue pair/],
    ["hostfwd=tcp:127.0.0.1:2222", /invalid hostfwd/],
    ["hostfwd=tcp::70000-:22", /ports are 1-65535/],
    ["hostfwd=tcp::2222-10.9.9.9:22", /is not the guest's/],
    ["hostfwd=tcp::2222-:22,hostfwd=tcp::2222-:23", /two hostfwd rules/],
  ])("refuses -n %s", (arg, message) => {
    expect(() => parseNetworkOptions([arg])).toThrow(ConfigError);
    expect(() => parseNetworkOptions([arg])).toThrow(message);
  });

  it("allows one user-mode NIC, as kvmtool does", () => {
    expect(() => parseNetworkOptions(["mode=user", "mode=user"])).toThrow(/only one user-mode/);
  });
});
