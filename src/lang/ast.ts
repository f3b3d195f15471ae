// The pass-1 syntax tree: plain readonly data with a `kind` discriminant and a span on every node.

/** Where a node came from. `offset`/`end` are character offsets into `file`'s text; line and col are 1-based. */
export interface Span {
  readonly file: string;
  readonly line: number;
  readonly col: number;
  readonly offset: number;
  readonly end: number;
}

export type ValueType = 'long' | 'string';

export interface Program {
  readonly kind: 'program';
  readonly file: string;
  readonly decls: readonly Decl[];
  readonly span: Span;
}

export type Decl = ProbeDecl | AliasDecl | GlobalDecl | FunctionDecl | EmbeddedDecl;

export interface ProbeDecl {
  readonly kind: 'probe';
  readonly points: readonly ProbePoint[];
  readonly body: Block;
  readonly private: boolean;
  readonly span: Span;
}

/** `probe NAME = POINTS { }` (prologue) or `probe NAME += POINTS { }` (epilogue). */
export interface AliasDecl {
  readonly kind: 'alias';
  readonly names: readonly ProbePoint[];
  readonly epilogue: boolean;
  readonly points: readonly ProbePoint[];
  readonly body: Block;
  readonly private: boolean;
  readonly span: Span;
}

export interface ProbePoint {
  readonly kind: 'probePoint';
  readonly components: readonly PointPart[];
  readonly optional: boolean;
  readonly sufficient: boolean;
  readonly condition: Expr | undefined;
  readonly span: Span;
}

export type PointPart = Component | ComponentGroup;

/** One dotted part: `function("vfs_*")`, `return`, `ms(100)`; the name may contain `*`/`**`. */
export interface Component {
  readonly kind: 'component';
  readonly name: string;
  readonly arg: NumberLit | StringLit | undefined;
  readonly span: Span;
}

/** Brace alternation `{a,b.c}`: each alternative is a dotted component path. */
export interface ComponentGroup {
  readonly kind: 'componentGroup';
  readonly alternatives: readonly (readonly PointPart[])[];
  readonly span: Span;
}

export interface GlobalDecl {
  readonly kind: 'global';
  readonly name: string;
  /** `%`: the array wraps instead of failing when full. */
  readonly wrap: boolean;
  /** Declared maximum size `global a[1000]`; undefined for scalars/unsized arrays. */
  readonly size: NumberLit | undefined;
  readonly init: NumberLit | StringLit | undefined;
  readonly private: boolean;
  readonly span: Span;
}

export interface Param {
  readonly kind: 'param';
  readonly name: string;
  readonly type: ValueType | undefined;
  readonly span: Span;
}

export interface FunctionDecl {
  readonly kind: 'function';
  readonly name: string;
  readonly returnType: ValueType | undefined;
  readonly params: readonly Param[];
  readonly body: Block | EmbeddedCode;
  readonly private: boolean;
  readonly span: Span;
}

/** Embedded C `%{ ... %}`; `pragmas` lists the pragma comments (pure, unprivileged, guru, ...) found in the code. */
export interface EmbeddedCode {
  readonly kind: 'embedded';
  readonly code: string;
  readonly pragmas: readonly string[];
  readonly span: Span;
}

export interface EmbeddedDecl {
  readonly kind: 'embeddedDecl';
  readonly code: EmbeddedCode;
  readonly span: Span;
}

// ---- statements ----

export type Stmt =
  | Block
  | EmptyStmt
  | ExprStmt
  | IfStmt
  | WhileStmt
  | ForStmt
  | ForeachStmt
  | ReturnStmt
  | DeleteStmt
  | TryStmt
  | JumpStmt;

export interface Block {
  readonly kind: 'block';
  readonly stmts: readonly Stmt[];
  readonly span: Span;
}
export interface EmptyStmt {
  readonly kind: 'empty';
  readonly span: Span;
}
export interface ExprStmt {
  readonly kind: 'exprStmt';
  readonly expr: Expr;
  readonly span: Span;
}
export interface IfStmt {
  readonly kind: 'if';
  readonly cond: Expr;
  readonly then: Stmt;
  readonly else: Stmt | undefined;
  readonly span: Span;
}
export interface WhileStmt {
  readonly kind: 'while';
  readonly cond: Expr;
  readonly body: Stmt;
  readonly span: Span;
}
export interface ForStmt {
  readonly kind: 'for';
  readonly init: Expr | undefined;
  readonly cond: Expr | undefined;
  readonly step: Expr | undefined;
  readonly body: Stmt;
  readonly span: Span;
}
export type SortDir = 1 | -1 | 0;
export interface ForeachKey {
  readonly kind: 'foreachKey';
  readonly name: string;
  readonly sort: SortDir;
  readonly span: Span;
}
export interface ForeachStmt {
  readonly kind: 'foreach';
  /** `v = [k] in a`: the value variable. */
  readonly value: ForeachKey | undefined;
  readonly keys: readonly ForeachKey[];
  readonly array: Indexable;
  /** Slice `a[*, 3]` iterated instead of the whole array. */
  readonly slice: readonly (Expr | null)[] | undefined;
  readonly arraySort: SortDir;
  /** Aggregate the sort on the array value uses (`@sum` in `in a @sum +`). */
  readonly sortAggregate: StatOpName | undefined;
  readonly limit: Expr | undefined;
  readonly body: Stmt;
  readonly span: Span;
}
export interface ReturnStmt {
  readonly kind: 'return';
  readonly value: Expr | undefined;
  readonly span: Span;
}
export interface DeleteStmt {
  readonly kind: 'delete';
  readonly target: Expr;
  readonly span: Span;
}
export interface TryStmt {
  readonly kind: 'try';
  readonly body: Block;
  readonly catchVar: string | undefined;
  readonly handler: Block;
  readonly span: Span;
}
export interface JumpStmt {
  readonly kind: 'next' | 'break' | 'continue';
  readonly span: Span;
}

// ---- expressions ----

export type Expr =
  | NumberLit
  | StringLit
  | SymbolRef
  | ArrayIndex
  | Call
  | PrintCall
  | Binary
  | Unary
  | Crement
  | Assign
  | Ternary
  | InExpr
  | RegexMatch
  | StatOp
  | HistOp
  | TargetVar
  | ContextVars
  | CastOp
  | AtVar
  | AutoCast
  | DefinedOp
  | EntryOp
  | PerfOp
  | ProbeWriteOp
  | ConstOp
  | RegisterOp
  | DerefOp
  | EmbeddedCode;

export interface NumberLit {
  readonly kind: 'number';
  /** Value as written, below 2^64 (stap reinterprets it as signed 64-bit), negative only for a signed probe-point or global-initialiser literal; null when invalid or out of range. */
  readonly value: bigint | null;
  readonly text: string;
  readonly span: Span;
}
export interface StringLit {
  readonly kind: 'string';
  /** Decoded text after escapes and adjacent-literal concatenation. */
  readonly value: string;
  readonly span: Span;
}
export interface SymbolRef {
  readonly kind: 'symbol';
  readonly name: string;
  readonly span: Span;
}
/** Something that can be indexed or iterated: an array name or a histogram. */
export type Indexable = SymbolRef | HistOp;
export interface ArrayIndex {
  readonly kind: 'index';
  readonly base: Indexable;
  /** `null` is the `*` wildcard of a slice. */
  readonly keys: readonly (Expr | null)[];
  readonly span: Span;
}
export interface Call {
  readonly kind: 'call';
  readonly name: string;
  readonly args: readonly Expr[];
  readonly span: Span;
}
export type PrintName =
  | 'print' | 'println' | 'printf' | 'printd' | 'printdln'
  | 'sprint' | 'sprintln' | 'sprintf' | 'sprintd' | 'sprintdln';
export interface PrintCall {
  readonly kind: 'print';
  readonly name: PrintName;
  readonly args: readonly Expr[];
  readonly span: Span;
}
export type BinaryOp =
  | '||' | '&&' | '|' | '^' | '&'
  | '==' | '!=' | '<' | '>' | '<=' | '>='
  | '<<' | '>>' | '.' | '+' | '-' | '*' | '/' | '%';
export interface Binary {
  readonly kind: 'binary';
  readonly op: BinaryOp;
  readonly left: Expr;
  readonly right: Expr;
  readonly span: Span;
}
export interface Unary {
  readonly kind: 'unary';
  readonly op: '+' | '-' | '!' | '~';
  readonly operand: Expr;
  readonly span: Span;
}
export interface Crement {
  readonly kind: 'crement';
  readonly op: '++' | '--';
  readonly prefix: boolean;
  readonly operand: Expr;
  readonly span: Span;
}
export type AssignOp = '=' | '<<<' | '+=' | '-=' | '*=' | '/=' | '%=' | '<<=' | '>>=' | '&=' | '^=' | '|=' | '.=';
export interface Assign {
  readonly kind: 'assign';
  readonly op: AssignOp;
  readonly target: Expr;
  readonly value: Expr;
  readonly span: Span;
}
export interface Ternary {
  readonly kind: 'ternary';
  readonly cond: Expr;
  readonly then: Expr;
  readonly else: Expr;
  readonly span: Span;
}
export interface InExpr {
  readonly kind: 'in';
  readonly keys: readonly (Expr | null)[];
  readonly array: Indexable;
  readonly span: Span;
}
export interface RegexMatch {
  readonly kind: 'regex';
  readonly op: '=~' | '!~';
  readonly left: Expr;
  readonly pattern: StringLit;
  readonly span: Span;
}
export type StatOpName = 'count' | 'sum' | 'min' | 'max' | 'avg' | 'variance';
export interface StatOp {
  readonly kind: 'stat';
  readonly op: StatOpName;
  readonly operand: Expr;
  /** `@variance(s, N)`: the bit shift applied before computing. */
  readonly shift: NumberLit | undefined;
  readonly span: Span;
}
export interface HistOp {
  readonly kind: 'hist';
  readonly op: 'hist_linear' | 'hist_log';
  readonly operand: Expr;
  /** hist_linear: low, high, width. */
  readonly params: readonly Expr[];
  readonly span: Span;
}

/** Suffix on a target value: `->member` or `[index]`. */
export type TargetComponent =
  | { readonly kind: 'member'; readonly name: string; readonly span: Span }
  | { readonly kind: 'subscript'; readonly index: Expr; readonly span: Span };

/** Shared tail of every target-symbol form. `pretty` counts a trailing `$` (1) or `$$` (2). */
export interface TargetTail {
  readonly components: readonly TargetComponent[];
  readonly pretty: 0 | 1 | 2;
  readonly addressOf: boolean;
}
/** `$name`, with components. */
export interface TargetVar extends TargetTail {
  readonly kind: 'target';
  readonly name: string;
  readonly span: Span;
}
/** `$$vars`, `$$parms`, `$$locals`, `$$return` (and marker probes' `$$name`, `$$provider`, ...). */
export interface ContextVars {
  readonly kind: 'contextVars';
  readonly which: string;
  readonly pretty: 0 | 1 | 2;
  readonly span: Span;
}
export interface CastOp extends TargetTail {
  readonly kind: 'cast';
  readonly operand: Expr;
  readonly type: string;
  readonly module: string | undefined;
  readonly span: Span;
}
export interface AtVar extends TargetTail {
  readonly kind: 'atVar';
  readonly name: string;
  readonly module: string | undefined;
  readonly span: Span;
}
/** Target components applied to an ordinary value: `(expr)->member`, `&x`, `f()[2]`. */
export interface AutoCast extends TargetTail {
  readonly kind: 'autocast';
  readonly operand: Expr;
  readonly span: Span;
}
export interface DefinedOp {
  readonly kind: 'defined';
  readonly operand: Expr;
  readonly span: Span;
}
export interface EntryOp {
  readonly kind: 'entry';
  readonly operand: Expr;
  readonly span: Span;
}
export interface PerfOp {
  readonly kind: 'perf';
  readonly counter: StringLit;
  readonly span: Span;
}
export interface ProbeWriteOp {
  readonly kind: 'probewrite';
  readonly operand: Expr;
  readonly span: Span;
}
export interface ConstOp {
  readonly kind: 'const';
  readonly name: StringLit;
  readonly span: Span;
}
export interface RegisterOp {
  readonly kind: 'register';
  readonly space: 'kernel' | 'user';
  readonly register: Expr;
  readonly span: Span;
}
export interface DerefOp {
  readonly kind: 'deref';
  readonly space: 'kernel' | 'user';
  readonly size: Expr;
  readonly address: Expr;
  readonly span: Span;
}

/** Compile-time exhaustiveness check for `switch (x.kind)`. */
export function assertNever(x: never, what = 'node'): never {
  throw new Error(`internal error: unexpected ${what} ${JSON.stringify((x as { kind?: unknown })?.kind ?? x)}`);
}
