// Named field transforms: how a row turns raw fields into a value its handler takes
// (`derive: { imm: sext("imm19", 2) }`), in the spirit of decodetree's `!function=`.
//
// An operand is a field of the row's pattern ("imm9"), a literal bit string ("1", "10"), or
// another transform. Each transform says in one place what it means twice over: its
// AssemblyScript spelling for the generated dispatcher, and its value for TypeScript-side
// tools and tests. Values are u32, except the sign- and zero-extended offsets, which are i64
// because the handlers add them to 64-bit addresses.

export type ValueType = "u32" | "i64";

export type Operand = string | Transform;

/** What a transform sees of the row it is applied to. */
export interface Scope {
  /** The width of the raw field `name`; throws if the pattern has no such field. */
  width(name: string): number;
}

export interface Rendered {
  type: ValueType;
  /** Significant bits: what sext extends from, what concat packs. */
  width: number;
  /** An AssemblyScript expression over the raw fields (u32 locals named as in the pattern). */
  expr: string;
}

export type FieldValues = Readonly<Record<string, number>>;

export interface Transform {
  readonly kind: string;
  render(scope: Scope): Rendered;
  /** The value, given the raw fields' values. */
  evaluate(fields: FieldValues, scope: Scope): bigint;
  /** The raw fields it reads. */
  reads(): string[];
}

const LITERAL = /^[01]+$/;

const isLiteral = (x: Operand): x is string => typeof x === "string" && LITERAL.test(x);

/** A constant as the generated code spells it. */
const num = (n: number): string => (n < 10 ? String(n) : "0x" + n.toString(16));

/** The expression, parenthesized unless it is a name or a number. */
const atom = (expr: string): string => (/^\w+$/.test(expr) ? expr : `(${expr})`);

function render(kind: string, x: Operand, scope: Scope): Rendered {
  if (typeof x !== "string") {
    const r = x.render(scope);
    if (r.type !== "u32") throw new Error(`${kind}: operand ${r.expr} is ${r.type}, not u32`);
    return r;
  }
  if (isLiteral(x)) return { type: "u32", width: x.length, expr: String(parseInt(x, 2)) };
  return { type: "u32", width: scope.width(x), expr: x };
}

function value(x: Operand, fields: FieldValues, scope: Scope): bigint {
  if (typeof x !== "string") return x.evaluate(fields, scope);
  if (isLiteral(x)) return BigInt(parseInt(x, 2));
  const v = fields[x];
  if (v === undefined) throw new Error(`no value for field '${x}'`);
  return BigInt(v);
}

function reads(...xs: (Operand | number)[]): string[] {
  return xs.flatMap((x) => (typeof x === "number" || isLiteral(x) ? [] : typeof x === "string" ? [x] : x.reads()));
}

/** A shift amount: a constant, or a u32 operand. */
const shiftBy = (kind: string, s: number | Operand, scope: Scope): string =>
  typeof s === "number" ? String(s) : atom(render(kind, s, scope).expr);

const shiftValue = (s: number | Operand, fields: FieldValues, scope: Scope): bigint =>
  typeof s === "number" ? BigInt(s) : value(s, fields, scope);

/** The operands side by side, the first most significant: the ARM ARM's `immhi:immlo`. */
export function concat(...parts: Operand[]): Transform {
  return {
    kind: "concat",
    render(scope) {
      const rs = parts.map((p) => render("concat", p, scope));
      const width = rs.reduce((n, r) => n + r.width, 0);
      if (width > 32) throw new Error(`concat: ${width} bits do not fit a u32`);
      let lsb = width;
      let constant = 0;
      const terms: string[] = [];
      parts.forEach((p, i) => {
        const r = rs[i]!;
        lsb -= r.width;
        if (isLiteral(p)) {
          constant = (constant | (parseInt(p, 2) << lsb)) >>> 0;
          return;
        }
        if (constant) terms.push(num(constant));
        constant = 0;
        terms.push(lsb ? `(${atom(r.expr)} << ${lsb})` : r.expr);
      });
      if (constant || terms.length === 0) terms.push(num(constant));
      return { type: "u32", width, expr: terms.join(" | ") };
    },
    evaluate(fields, scope) {
      let v = 0n;
      for (const p of parts) v = (v << BigInt(render("concat", p, scope).width)) | value(p, fields, scope);
      return v;
    },
    reads: () => reads(...parts),
  };
}

/** x sign-extended from its width to 64 bits, shifted left: a signed offset (i64). */
export function sext(x: Operand, shift: number | Operand = 0): Transform {
  return {
    kind: "sext",
    render(scope) {
      const r = render("sext", x, scope);
      const s = shiftBy("sext", shift, scope);
      const base = `sx64(<u64>${atom(r.expr)}, ${r.width})`;
      return { type: "i64", width: 64, expr: s === "0" ? base : `${base} << ${s}` };
    },
    evaluate(fields, scope) {
      const v = BigInt.asIntN(render("sext", x, scope).width, value(x, fields, scope));
      return BigInt.asIntN(64, v << shiftValue(shift, fields, scope));
    },
    reads: () => reads(x, shift),
  };
}

/** x zero-extended to 64 bits, shifted left: an unsigned offset, as an i64. */
export function zext(x: Operand, shift: number | Operand = 0): Transform {
  return {
    kind: "zext",
    render(scope) {
      const base = `<i64>${atom(render("zext", x, scope).expr)}`;
      const s = shiftBy("zext", shift, scope);
      return { type: "i64", width: 64, expr: s === "0" ? base : `${base} << ${s}` };
    },
    evaluate: (fields, scope) => BigInt.asIntN(64, value(x, fields, scope) << shiftValue(shift, fields, scope)),
    reads: () => reads(x, shift),
  };
}

/** x + k: an access size from a size bit, `2 + sf`. */
export function plus(x: Operand, k: number): Transform {
  return {
    kind: "plus",
    render: (scope) => ({ type: "u32", width: 32, expr: `${atom(render("plus", x, scope).expr)} + ${k}` }),
    evaluate: (fields, scope) => BigInt.asUintN(32, value(x, fields, scope) + BigInt(k)),
    reads: () => reads(x),
  };
}

/** k - x: a fixed-point conversion's fbits from immh:immb. */
export function minus(k: number, x: Operand): Transform {
  return {
    kind: "minus",
    render: (scope) => ({ type: "u32", width: 32, expr: `${k} - ${atom(render("minus", x, scope).expr)}` }),
    evaluate: (fields, scope) => BigInt.asUintN(32, BigInt(k) - value(x, fields, scope)),
    reads: () => reads(x),
  };
}
