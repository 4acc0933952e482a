// struct virtio_net_hdr (virtio 1.2 §5.1.6): the 12 bytes before every frame on both queues
// (with VIRTIO_F_VERSION_1 the num_buffers field is always there), and what the device does
// with the checksum offload a transmitting driver asks for (NEEDS_CSUM: complete the partial
// checksum at csum_start + csum_offset, as a NIC would).

import { finishChecksum, sum16 } from "../../src/net/checksum.ts";

export const VIRTIO_NET_HDR_BYTES = 12;
export const VIRTIO_NET_HDR_F_NEEDS_CSUM = 1;
export const VIRTIO_NET_HDR_F_DATA_VALID = 2;
export const VIRTIO_NET_HDR_GSO_NONE = 0;
export const VIRTIO_NET_HDR_GSO_TCPV4 = 1;

export interface VirtioNetHeader {
  flags: number;
  gsoType: number;
  hdrLen: number;
  gsoSize: number;
  csumStart: number;
  csumOffset: number;
  numBuffers: number;
}

export function readNetHeader(b: Uint8Array): VirtioNetHeader {
  const dv = new DataView(b.buffer, b.byteOffset, VIRTIO_NET_HDR_BYTES);
  return {
    flags: b[0]!,
    gsoType: b[1]!,
    hdrLen: dv.getUint16(2, true),
    gsoSize: dv.getUint16(4, true),
    csumStart: dv.getUint16(6, true),
    csumOffset: dv.getUint16(8, true),
    numBuffers: dv.getUint16(10, true),
  };
}

/** A receive header: no GSO, `flags` (DATA_VALID when the driver took GUEST_CSUM). */
export function rxNetHeader(flags: number, numBuffers: number): Uint8Array {
  const h = new Uint8Array(VIRTIO_NET_HDR_BYTES);
  h[0] = flags;
  h[10] = numBuffers & 0xff;
  h[11] = numBuffers >>> 8;
  return h;
}

/**
 * A receive header for a TCP segment longer than one MSS (GUEST_TSO4): GSO TCPV4 of `gsoSize`,
 * and NEEDS_CSUM at the TCP checksum (csum_start past 14 + 20 header bytes), as a host's tap
 * hands over a coalesced segment; the stack wrote the full checksum there, which a receiver
 * treats as verified.
 */
export function rxTcpGsoHeader(gsoSize: number, numBuffers: number): Uint8Array {
  const h = rxNetHeader(VIRTIO_NET_HDR_F_NEEDS_CSUM, numBuffers);
  const dv = new DataView(h.buffer);
  h[1] = VIRTIO_NET_HDR_GSO_TCPV4;
  dv.setUint16(2, TCP_GSO_HEADERS_BYTES, true);
  dv.setUint16(4, gsoSize, true);
  dv.setUint16(6, 14 + 20, true);
  dv.setUint16(8, 16, true);
  return h;
}

/** Ethernet, IPv4 and TCP headers without options. */
const TCP_GSO_HEADERS_BYTES = 14 + 20 + 20;

/**
 * NEEDS_CSUM: the field at csumStart + csumOffset holds the pseudo-header sum; the device adds
 * everything from csumStart to the end and stores the complement. False when the offsets do
 * not fit the frame (the driver's mistake: the frame is dropped).
 */
export function completeChecksum(frame: Uint8Array, csumStart: number, csumOffset: number): boolean {
  const field = csumStart + csumOffset;
  if (field + 2 > frame.length || csumStart >= frame.length) return false;
  const c = finishChecksum(sum16(frame, csumStart, frame.length));
  frame[field] = c >>> 8;
  frame[field + 1] = c & 0xff;
  return true;
}
