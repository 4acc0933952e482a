// The decode table checked and resolved for the generator: each row's handler and the
// arguments it passes, the handlers rows share, and the order in which overlapping rows are
// tried. Everything the table language promises (arm/decode/table.ts) is checked here, so a
// mistake in the table is an error naming the rows, not a wrong decoder.

import { numberRows, popcount, type Group, type NumberedRow, type ParsedPattern } from "../../arm/decode/table.ts";
import type { FieldValues, Scope, ValueType } from "../../arm/decode/transforms.ts";

export interface Arg {
  name: string;
  type: ValueType;
  /** Where the value comes from: a raw field, a derived value, or a constant. */
  from: "field" | "derive" | "set";
  /** For a field, its width; for a constant, its value. */
  width?: number;
  value?: number;
}

export interface ResolvedRow extends NumberedRow {
  handler: string;
  args: Arg[];
}

export interface Handler {
  name: string;
  module: string;
  rows: ResolvedRow[];
  emitter: boolean;
}

export interface Model {
  /** In table order: rows[i].op = i + 1. */
  rows: ResolvedRow[];
  /** By name, in order of first use. */
  handlers: Map<string, Handler>;
  /** The order in which a word's candidate rows are tried: each winner before what it overrides. */
  priority: ResolvedRow[];
}

/** The row's fields as transforms see them. */
export function scopeOf(r: NumberedRow): Scope {
  return {
    width(name) {
      const f = r.parsed.fields.find((x) => x.name === name);
      if (!f) throw new Error(`no field '${name}' in "${r.row.pattern}"`);
      return f.width;
    },
  };
}

function resolveArgs(r: NumberedRow): Arg[] {
  const { row, parsed } = r;
  const derive = row.derive ?? {};
  const set = row.set ?? {};
  const fields = new Map(parsed.fields.map((f) => [f.name, f]));
  const scope = scopeOf(r);
  for (const name of Object.keys(set)) {
    if (fields.has(name) || name in derive) throw new Error(`row ${row.name}: '${name}' is both set and a field or derived value`);
    const v = set[name]!;
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new Error(`row ${row.name}: set ${name} = ${v} is not a u32`);
  }
  const names = row.args ?? [
    ...parsed.fields.map((f) => f.name),
    ...Object.keys(derive).filter((n) => !fields.has(n)),
    ...Object.keys(set),
  ];
  if (new Set(names).size !== names.length) throw new Error(`row ${row.name}: an argument is listed twice in (${names.join(", ")})`);
  const args = names.map((name): Arg => {
    const t = derive[name];
    if (t) {
      try {
        return { name, type: t.render(scope).type, from: "derive" };
      } catch (e) {
        throw new Error(`row ${row.name}: ${name}: ${(e as Error).message}`);
      }
    }
    const f = fields.get(name);
    if (f) return { name, type: "u32", from: "field", width: f.width };
    if (name in set) return { name, type: "u32", from: "set", value: set[name]! };
    throw new Error(`row ${row.name}: argument '${name}' is no field, derived value or set constant`);
  });
  for (const name of [...Object.keys(derive), ...Object.keys(set)]) {
    if (!names.includes(name)) throw new Error(`row ${row.name}: '${name}' is derived or set but not passed`);
  }
  return args;
}

const shape = (args: Arg[]) => args.map((a) => `${a.name}: ${a.type}`).join(", ");

/** Rows sharing a handler must agree on its arguments, and constants must fit the fields. */
function checkHandler(h: Handler): void {
  const first = h.rows[0]!;
  for (const r of h.rows) {
    if (r.module !== h.module) {
      throw new Error(`handler ${h.name}: row ${r.row.name} is in group ${r.module}, row ${first.row.name} in ${h.module}`);
    }
    if (shape(r.args) !== shape(first.args)) {
      throw new Error(
        `handler ${h.name}: row ${first.row.name} passes (${shape(first.args)}) but row ${r.row.name} passes (${shape(r.args)})`,
      );
    }
  }
  // A constant must fit the widest field its sibling rows pass in its place (a signed load's
  // 1-bit size field and LDRSW's size = 2 share a 2-bit size).
  first.args.forEach((_, i) => {
    const widths = h.rows.map((r) => r.args[i]!).filter((a) => a.from === "field").map((a) => a.width!);
    if (widths.length === 0) return;
    const widest = Math.max(...widths);
    for (const r of h.rows) {
      const a = r.args[i]!;
      if (a.from === "set" && a.value! >= 2 ** widest) {
        throw new Error(`handler ${h.name}: row ${r.row.name} sets ${a.name} = ${a.value}, wider than the ${widest}-bit field of its other rows`);
      }
    }
  });
}

/** Do the two patterns both match some word? */
export function overlap(a: ParsedPattern, b: ParsedPattern): boolean {
  return ((a.value ^ b.value) & a.mask & b.mask) === 0;
}

/** Does every word b matches also match a? */
function covers(a: ParsedPattern, b: ParsedPattern): boolean {
  return (a.mask & ~b.mask) === 0 && ((a.value ^ b.value) & a.mask) === 0;
}

/** A word both match: their fixed bits, zero elsewhere. */
function witness(a: ParsedPattern, b: ParsedPattern): string {
  return "0x" + ((a.value | b.value) >>> 0).toString(16).padStart(8, "0");
}

/**
 * Every overlap must be declared by exactly one side; every declaration must be an overlap.
 * Returns the rows in the order to try them: each winner before the rows it overrides, and
 * otherwise more fixed bits first (the order the decision tree's leaves test them in).
 */
function resolveOverlaps(rows: ResolvedRow[]): ResolvedRow[] {
  const byName = new Map(rows.map((r) => [r.row.name, r]));
  const beats = new Map<ResolvedRow, Set<ResolvedRow>>(rows.map((r) => [r, new Set()]));
  for (const r of rows) {
    for (const name of r.row.overrides ?? []) {
      const other = byName.get(name);
      if (!other) throw new Error(`row ${r.row.name} overrides '${name}', which is no row`);
      if (!overlap(r.parsed, other.parsed)) throw new Error(`row ${r.row.name} overrides ${name}, but no word matches both`);
      if (covers(r.parsed, other.parsed)) throw new Error(`row ${r.row.name} overrides ${name} everywhere: ${name} is unreachable`);
      beats.get(r)!.add(other);
    }
  }
  for (let i = 0; i < rows.length; i++) {
    for (let j = i + 1; j < rows.length; j++) {
      const a = rows[i]!;
      const b = rows[j]!;
      if (!overlap(a.parsed, b.parsed)) continue;
      const ab = beats.get(a)!.has(b);
      const ba = beats.get(b)!.has(a);
      if (ab && ba) throw new Error(`rows ${a.row.name} and ${b.row.name} override each other`);
      if (!ab && !ba) {
        throw new Error(
          `rows ${a.row.name} and ${b.row.name} overlap (both match ${witness(a.parsed, b.parsed)}): ` +
            `list one in the other's overrides`,
        );
      }
    }
  }
  // Kahn's algorithm, always taking the first ready row in the preferred order.
  const preferred = [...rows].sort((a, b) => popcount(b.parsed.mask) - popcount(a.parsed.mask) || a.op - b.op);
  const losing = new Map(rows.map((r) => [r, 0]));
  for (const set of beats.values()) for (const l of set) losing.set(l, losing.get(l)! + 1);
  const out: ResolvedRow[] = [];
  const done = new Set<ResolvedRow>();
  while (out.length < rows.length) {
    const next = preferred.find((r) => !done.has(r) && losing.get(r) === 0);
    if (!next) {
      const stuck = preferred.filter((r) => !done.has(r)).map((r) => r.row.name);
      throw new Error(`the overrides of rows ${stuck.join(", ")} form a cycle`);
    }
    done.add(next);
    out.push(next);
    for (const l of beats.get(next)!) losing.set(l, losing.get(l)! - 1);
  }
  return out;
}

export function resolveTable(groups: readonly Group[]): Model {
  const numbered = numberRows(groups);
  const seen = new Set<string>();
  for (const r of numbered) {
    if (seen.has(r.row.name)) throw new Error(`two rows are named ${r.row.name}`);
    seen.add(r.row.name);
  }
  const rows = numbered.map((r): ResolvedRow => ({ ...r, handler: r.row.handler ?? r.row.name, args: resolveArgs(r) }));
  const handlers = new Map<string, Handler>();
  for (const r of rows) {
    let h = handlers.get(r.handler);
    if (!h) handlers.set(r.handler, (h = { name: r.handler, module: r.module, rows: [], emitter: false }));
    h.rows.push(r);
  }
  for (const h of handlers.values()) checkHandler(h);
  for (const g of groups) {
    for (const name of g.emitters ?? []) {
      const h = handlers.get(name);
      if (!h || h.module !== g.module) throw new Error(`group ${g.module} lists emitter ${name}, but none of its rows uses handler ${name}`);
      if (h.emitter) throw new Error(`group ${g.module} lists emitter ${name} twice`);
      h.emitter = true;
    }
  }
  return { rows, handlers, priority: resolveOverlaps(rows) };
}

/** The arguments a row's handler gets for insn: what the generated dispatcher passes. */
export function argumentValues(r: ResolvedRow, insn: number): Record<string, bigint> {
  const raw: Record<string, number> = {};
  for (const f of r.parsed.fields) raw[f.name] = Number((BigInt(insn >>> 0) >> BigInt(f.lsb)) & ((1n << BigInt(f.width)) - 1n));
  const fields: FieldValues = raw;
  const out: Record<string, bigint> = {};
  for (const a of r.args) {
    if (a.from === "field") out[a.name] = BigInt(raw[a.name]!);
    else if (a.from === "set") out[a.name] = BigInt(a.value!);
    else out[a.name] = r.row.derive![a.name]!.evaluate(fields, scopeOf(r));
  }
  return out;
}
