import { describe, expect, it } from "vitest";
import { readFdt } from "../../src/lib/fdt/reader.ts";
import { writeFdt } from "../../src/lib/fdt/writer.ts";
import { dtbToDts, dtsToDtb } from "../support/dtc.ts";

// Written the way a person writes dts, not the way dtc prints it: labels, references,
// /bits/ 64, mixed values, a /memreserve/, property names that are tails of others.
const SOURCE = `/dts-v1/;
/memreserve/ 0x8f000000 0x10000;
/memreserve/ 0xffffffff00000000 0x1;

/ {
	interrupt-parent = <&gic>;
	compatible = "linux,dummy-virt";
	#address-cells = <2>;
	#size-cells = <2>;

	chosen {
		bootargs = "console=ttyS0 earlycon \\"quoted\\" back\\\\slash";
		kaslr-seed = /bits/ 64 <0xfedcba9876543210>;
		stdout-path = "serial0";
	};

	memory@80000000 {
		device_type = "memory";
		reg = <0x0 0x80000000 0x0 0x20000000>;
	};

	gic: intc@3fff0000 {
		compatible = "arm,gic-v3";
		#interrupt-cells = <3>;
		interrupt-controller;
		reg = <0x0 0x3fff0000 0x0 0x10000>, <0x0 0x3ffb0000 0x0 0x40000>;
		ranges;
		#address-cells = <2>;
		#size-cells = <2>;

		msic@3ffd0000 {
			compatible = "arm,gic-v3-its";
			msi-controller;
			reg = <0x0 0x3ffd0000 0x0 0x20000>;
		};
	};

	psci {
		compatible = "arm,psci-0.2", "arm,psci";
		method = "hvc";
		cells = <0xc4000003>;
		mac-address = [52 54 00 12 34 56];
		mixed = "text", <0x1 0x2>, [ab cd];
	};
};
`;

describe("readFdt on dtc's blobs", () => {
  const blob = dtsToDtb(SOURCE, ["-b", "3"]);
  const { root, bootCpuId, memReserve } = readFdt(blob);

  it("reads the header and the reservations", () => {
    expect(bootCpuId).toBe(3);
    expect(memReserve).toEqual([
      { address: 0x8f00_0000n, size: 0x1_0000n },
      { address: 0xffff_ffff_0000_0000n, size: 1n },
    ]);
  });

  it("reads the tree, in order", () => {
    expect(root.name).toBe("");
    expect(root.children.map((c) => c.name)).toEqual(["chosen", "memory@80000000", "intc@3fff0000", "psci"]);
    expect([...root.props.keys()]).toEqual(["interrupt-parent", "compatible", "#address-cells", "#size-cells"]);
    const gic = root.find("/intc@3fff0000")!;
    expect(root.getCells("interrupt-parent")).toEqual(gic.getCells("phandle")); // dtc added the phandle
    expect(root.find("/chosen")!.getString("bootargs")).toBe('console=ttyS0 earlycon "quoted" back\\slash');
    expect(root.find("/chosen")!.getU64("kaslr-seed")).toBe(0xfedc_ba98_7654_3210n);
    expect(root.find("/memory")!.getCells("reg")).toEqual([0, 0x8000_0000, 0, 0x2000_0000]);
    expect(gic.getCells("reg")).toEqual([0, 0x3fff_0000, 0, 0x1_0000, 0, 0x3ffb_0000, 0, 0x4_0000]);
    expect(gic.props.get("interrupt-controller")).toEqual(new Uint8Array(0));
    expect(gic.find("msic@3ffd0000")!.getString("compatible")).toBe("arm,gic-v3-its");
    const psci = root.find("/psci")!;
    expect(psci.getStrings("compatible")).toEqual(["arm,psci-0.2", "arm,psci"]);
    expect(psci.getCells("cells")).toEqual([0xc400_0003]);
    expect(psci.props.get("mac-address")).toEqual(new Uint8Array([0x52, 0x54, 0, 0x12, 0x34, 0x56]));
    expect(psci.props.get("mixed")).toEqual(new Uint8Array([0x74, 0x65, 0x78, 0x74, 0, 0, 0, 0, 1, 0, 0, 0, 2, 0xab, 0xcd]));
  });

  it("round-trips through writeFdt to the same dts, and to the same bytes", () => {
    const again = writeFdt(root, { bootCpuId, memReserve });
    expect(dtbToDts(again).dts).toBe(dtbToDts(blob).dts);
    expect(again).toEqual(blob);
  });

  it("reads a version 16 blob, which has no size_dt_struct", () => {
    const v16 = dtsToDtb(SOURCE, ["-V", "16", "-b", "3"]);
    expect(new DataView(v16.buffer).getUint32(20)).toBe(16);
    const parsed = readFdt(v16);
    expect(writeFdt(parsed.root, { bootCpuId: parsed.bootCpuId, memReserve: parsed.memReserve })).toEqual(blob);
  });

  it("reads padded blobs and ignores bytes past totalsize", () => {
    const padded = dtsToDtb(SOURCE, ["-p", "1000", "-b", "3"]);
    const parsed = readFdt(padded);
    expect(writeFdt(parsed.root, { bootCpuId: parsed.bootCpuId, memReserve: parsed.memReserve })).toEqual(blob);
    const sized = dtsToDtb(SOURCE, ["-S", "8192", "-b", "3"]);
    expect(writeFdt(root, { bootCpuId, memReserve, padToBytes: 8192 })).toEqual(sized);
    const trailing = new Uint8Array(blob.length + 7);
    trailing.set(blob);
    expect(readFdt(trailing).root.find("/psci/")!.getString("method")).toBe("hvc");
  });

  it("accepts a blob that does not start at offset 0 of its buffer", () => {
    const shifted = new Uint8Array(blob.length + 3);
    shifted.set(blob, 3);
    expect(writeFdt(readFdt(shifted.subarray(3)).root, { bootCpuId, memReserve })).toEqual(blob);
  });
});
