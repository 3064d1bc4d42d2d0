//! The formula in a generated function's docs: the program the function runs, printed in
//! matrix notation from the same graph the emitter writes, so the two cannot drift.
//!
//! A value used once is written inside its user (`A x + Aᵀ x`); a value used twice or more
//! gets a line of its own (`r = X w − y`) with the name the user's `let` gave it, or `t1`,
//! `t2`, ..; a loop or branch is a block of indented lines over its body. Matrices are
//! written with a capital initial (`a` is `A`) where that name is free.

use crate::ir::{Dim, Graph, Id, ScalarFn, SymInt, Ty};
use crate::ops::{CmpOp, Extremum, Fun, IntOp, LoopSpec, Op, Solver, Triangle};
use std::collections::{HashMap, HashSet};

/// Programs longer than this many lines are cut, their outputs kept.
pub const MAX_LINES: usize = 30;

/// A value whose expression is longer than this many characters gets a line of its own, so
/// that lines stay readable (and the text of a long chain is not copied into each user).
const MAX_INLINE: usize = 60;

/// A program printed: its lines, and how many operations it runs.
pub struct Formula {
    pub lines: Vec<String>,
    /// The IR nodes of the program: every operation, not its parameters, constants or tuple
    /// fields; a loop's or closure's body is counted once, not per iteration or entry.
    pub operations: usize,
}

impl Formula {
    /// The lines, cut to [`MAX_LINES`] (the outputs, last, are kept): the text of a doc's
    /// code block, and whether it was cut.
    pub fn text(&self, outputs: usize) -> (String, bool) {
        if self.lines.len() <= MAX_LINES {
            return (self.lines.join("\n"), false);
        }
        let outputs = outputs.min(MAX_LINES - 1);
        let head = MAX_LINES - 1 - outputs;
        let left_out = self.lines.len() - head - outputs;
        let mut shown: Vec<String> = self.lines[..head].to_vec();
        shown.push(format!("⋮ ({left_out} lines)"));
        shown.extend_from_slice(&self.lines[self.lines.len() - outputs..]);
        (shown.join("\n"), true)
    }
}

/// Prints the program computing `outputs` (a label, and the node or `None` for a zero) in
/// `g`, whose parameter `Op::Param(k)` is called `params[k]`.
pub fn formula(g: &Graph, params: &[String], outputs: &[(String, Option<Id>)]) -> Formula {
    let mut names = Names::new(params);
    let leaves: Vec<Text> = params.iter().map(|p| Text::atom(p.clone())).collect();
    let roots: Vec<Id> = outputs.iter().filter_map(|(_, id)| *id).collect();
    let mut printer = Printer::new(g, &leaves, 0);
    printer.program(&mut names, &roots);
    for (label, id) in outputs {
        let value = id.map_or_else(|| "0".to_owned(), |id| printer.text(id).text.clone());
        printer.lines.push(format!("{label} = {value}"));
    }
    Formula {
        lines: printer.lines,
        operations: printer.operations,
    }
}

/// How tightly an expression binds: an operand is parenthesised where its user needs more.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Prec {
    Sum,
    Product,
    Atom,
}

#[derive(Clone)]
struct Text {
    text: String,
    prec: Prec,
}

impl Text {
    fn atom(text: String) -> Text {
        Text {
            text,
            prec: Prec::Atom,
        }
    }

    fn new(text: String, prec: Prec) -> Text {
        Text { text, prec }
    }

    /// The text, parenthesised unless it binds at least as tightly as `prec`.
    fn at(&self, prec: Prec) -> String {
        if self.prec >= prec {
            self.text.clone()
        } else {
            format!("({})", self.text)
        }
    }
}

/// The names in use: the parameters', and the lines' (shared by the regions' printers, so a
/// body's lines never reuse an outer name).
struct Names {
    taken: HashSet<String>,
    next: usize,
    closures: HashMap<usize, String>,
}

impl Names {
    fn new(params: &[String]) -> Names {
        Names {
            taken: params.iter().cloned().collect(),
            next: 1,
            closures: HashMap::new(),
        }
    }

    /// The user's name for a value if it is free, else the next free `t<n>`.
    fn fresh(&mut self, user: Option<&str>, ty: &Ty) -> String {
        if let Some(user) = user {
            let display = display_name(user, ty);
            for candidate in [display, user.to_owned()] {
                if self.taken.insert(candidate.clone()) {
                    return candidate;
                }
            }
        }
        loop {
            let name = format!("t{}", self.next);
            self.next += 1;
            if self.taken.insert(name.clone()) {
                return name;
            }
        }
    }
}

/// A matrix's name with a capital initial (`a` is `A`), the convention of matrix calculus.
pub fn display_name(name: &str, ty: &Ty) -> String {
    let is_matrix = matches!(ty, Ty::Mat(r, c) if *r != Dim::Lit(1) && *c != Dim::Lit(1));
    let mut chars = name.chars();
    match chars.next() {
        Some(first) if is_matrix && first.is_ascii_lowercase() => {
            first.to_ascii_uppercase().to_string() + chars.as_str()
        }
        _ => name.to_owned(),
    }
}

/// Prints one graph (the function's, or a region's body) as lines at one indentation.
struct Printer<'a> {
    g: &'a Graph,
    /// The text of `Op::Param(k)`.
    leaves: &'a [Text],
    depth: usize,
    texts: Vec<Option<Text>>,
    lines: Vec<String>,
    operations: usize,
}

impl<'a> Printer<'a> {
    fn new(g: &'a Graph, leaves: &'a [Text], depth: usize) -> Printer<'a> {
        Printer {
            g,
            leaves,
            depth,
            texts: vec![None; g.len()],
            lines: Vec::new(),
            operations: 0,
        }
    }

    fn text(&self, id: Id) -> &Text {
        self.texts[id.index()]
            .as_ref()
            .expect("a node is printed after its arguments")
    }

    /// Prints the nodes `roots` depend on: each gets its text, and a line if it needs a name.
    fn program(&mut self, names: &mut Names, roots: &[Id]) {
        let g = self.g;
        let live = g.reachable(roots.iter().copied());
        let needs_name = self.needs_name(&live, roots);
        for id in g.ids().filter(|id| live[id.index()]) {
            if !is_leaf(g.op(id)) {
                self.operations += 1;
            }
            let text = match g.op(id) {
                Op::Loop(spec) => self.loop_block(names, id, spec),
                Op::Cond(_) => self.cond_block(names, id),
                Op::Map(f) => {
                    let closure = self.closure(names, *f);
                    let m = self.text(g.node(id).args[0]).text.clone();
                    Text::atom(format!("map({closure}, {m})"))
                }
                op => self.expression(op, id),
            };
            let long = text.text.chars().count() > MAX_INLINE && !roots.contains(&id);
            let is_block = matches!(g.op(id), Op::Loop(_) | Op::Cond(_));
            let text = if (needs_name[id.index()] || long) && !is_block {
                let name = names.fresh(g.value_names.get(&id).map(String::as_str), g.ty(id));
                self.line(format!("{name} = {}", text.text));
                Text::atom(name)
            } else {
                text
            };
            self.texts[id.index()] = Some(text);
        }
    }

    /// The nodes worth a line: used more than once (shared subexpressions), captured by a
    /// loop or branch (its body refers to them by name), and tuples. (`program` also names
    /// the expressions longer than `MAX_INLINE`.)
    fn needs_name(&self, live: &[bool], roots: &[Id]) -> Vec<bool> {
        let g = self.g;
        let mut uses = vec![0_usize; g.len()];
        let mut named = vec![false; g.len()];
        for &root in roots {
            uses[root.index()] += 1;
        }
        for id in g.ids().filter(|id| live[id.index()]) {
            let node = g.node(id);
            for &arg in &node.args {
                uses[arg.index()] += 1;
            }
            // A body names its captured values by their outer text: a name keeps it short.
            // (A branch's condition is written once, in its header.)
            let captured = match &node.op {
                Op::Loop(_) => &node.args[..],
                Op::Cond(_) => &node.args[1..],
                _ => &[],
            };
            for &arg in captured {
                named[arg.index()] = true;
            }
            named[id.index()] |= matches!(node.ty, Ty::Tuple(_) | Ty::Array(..));
        }
        g.ids()
            .map(|id| {
                let i = id.index();
                live[i] && !is_leaf(g.op(id)) && (named[i] || uses[i] > 1)
            })
            .collect()
    }

    fn line(&mut self, text: String) {
        self.lines
            .push(format!("{}{text}", "    ".repeat(self.depth)));
    }

    /// A region's body as indented lines, and the texts of its outputs.
    fn region(
        &mut self,
        names: &mut Names,
        region: usize,
        leaves: &[Text],
    ) -> (Vec<String>, usize, Vec<String>) {
        let body = &self.g.regions[region];
        let mut printer = Printer::new(&body.graph, leaves, self.depth + 1);
        printer.program(names, &body.outputs);
        let outputs = body
            .outputs
            .iter()
            .map(|&id| printer.text(id).text.clone())
            .collect();
        (printer.lines, printer.operations, outputs)
    }

    /// `name = for i in 0..trip, from (..):`, the body, then the carried values' updates
    /// `name.j ← ..`; inside, `name.j` is carried value `j` at the start of an iteration.
    fn loop_block(&mut self, names: &mut Names, id: Id, spec: &LoopSpec) -> Text {
        let node = self.g.node(id);
        let name = names.fresh(None, &node.ty);
        let (index, counter) = self.loop_indices(spec);
        let mut leaves = vec![Text::atom(index.clone()), Text::atom(counter.clone())];
        leaves.extend((0..spec.n_carries).map(|j| Text::atom(format!("{name}.{j}"))));
        let (inits, captured) = node.args.split_at(spec.n_carries);
        leaves.extend(captured.iter().map(|&arg| self.text(arg).clone()));
        let inits: Vec<String> = inits.iter().map(|&a| self.text(a).text.clone()).collect();
        let header = loop_header(spec, &index, &counter);
        let taped = if spec.tape.iter().any(|&on| on) {
            " (taped)"
        } else {
            ""
        };
        let from = format!("from ({})", inits.join(", "));
        self.line([name.as_str(), " = ", &header, ", ", &from, taped, ":"].concat());
        let (lines, operations, outputs) = self.region(names, spec.region, &leaves);
        self.lines.extend(lines);
        self.operations += operations;
        let updates: Vec<String> = outputs
            .iter()
            .enumerate()
            .map(|(j, out)| format!("{name}.{j} ← {out}"))
            .collect();
        self.nested_line(updates.join(", "));
        Text::atom(name)
    }

    /// The names of a loop's index `i` and counter `k` (`i2`, `k2` in a nested loop): one
    /// name for both where the loop runs over `0..trip` in order.
    fn loop_indices(&self, spec: &LoopSpec) -> (String, String) {
        let nested = if self.depth == 0 {
            String::new()
        } else {
            (self.depth + 1).to_string()
        };
        let counter = if is_plain(spec) { "i" } else { "k" };
        (format!("i{nested}"), format!("{counter}{nested}"))
    }

    /// `name = if c:` then one side's lines and `→ outputs`, `else:` and the other's.
    fn cond_block(&mut self, names: &mut Names, id: Id) -> Text {
        let node = self.g.node(id);
        let Op::Cond(spec) = &node.op else {
            unreachable!("a branch node")
        };
        let name = names.fresh(None, &node.ty);
        let condition = self.text(node.args[0]).text.clone();
        let leaves: Vec<Text> = node.args[1..]
            .iter()
            .map(|&arg| self.text(arg).clone())
            .collect();
        self.line(format!("{name} = if {condition}:"));
        for (side, region) in [("", spec.then_region), ("else:", spec.else_region)] {
            if !side.is_empty() {
                self.line(side.to_owned());
            }
            let (lines, operations, outputs) = self.region(names, region, &leaves);
            self.lines.extend(lines);
            self.operations += operations;
            self.nested_line(format!("→ {}", tuple(&outputs)));
        }
        Text::atom(name)
    }

    fn nested_line(&mut self, text: String) {
        self.depth += 1;
        self.line(text);
        self.depth -= 1;
    }

    /// The name of scalar function `f` (`.map()` closure), its definition printed the first
    /// time: `f1(t) = ..`, or a block where its body has lines of its own.
    fn closure(&mut self, names: &mut Names, f: usize) -> String {
        if let Some(name) = names.closures.get(&f) {
            return name.clone();
        }
        let name = format!("f{}", names.closures.len() + 1);
        names.closures.insert(f, name.clone());
        let ScalarFn { body, output } = self.g.scalar_fns[f];
        let leaves = [Text::atom("t".to_owned())];
        let mut printer = Printer::new(&self.g.bodies[body], &leaves, self.depth + 1);
        printer.program(names, &[output]);
        let value = printer.text(output).text.clone();
        self.operations += printer.operations;
        if printer.lines.is_empty() {
            self.line(format!("{name}(t) = {value}"));
        } else {
            self.line(format!("{name}(t):"));
            self.lines.extend(printer.lines);
            self.nested_line(format!("→ {value}"));
        }
        name
    }

    /// The expression of one node of an op without a body, from its arguments' texts.
    fn expression(&self, op: &Op, id: Id) -> Text {
        let node = self.g.node(id);
        let a: Vec<&Text> = node.args.iter().map(|&arg| self.text(arg)).collect();
        let call = |name: &str| {
            let args: Vec<String> = a.iter().map(|t| t.text.clone()).collect();
            Text::atom(format!("{name}({})", args.join(", ")))
        };
        let postfix = |mark: &str| Text::atom(format!("{}{mark}", a[0].at(Prec::Atom)));
        let sum = |sign: &str| {
            let (x, y) = (a[0].at(Prec::Sum), a[1].at(Prec::Product));
            Text::new(format!("{x} {sign} {y}"), Prec::Sum)
        };
        match op {
            Op::Param(k) => self.leaves[*k].clone(),
            Op::Lit(value) => number(value.get()),
            Op::IntConst(name) | Op::FloatConst(name) => Text::atom(name.to_string()),
            Op::Identity => Text::atom("I".to_owned()),
            Op::Fill if a[0].text == "0" => Text::atom("0".to_owned()),
            Op::Fill => Text::new(format!("{} 𝟙", a[0].at(Prec::Product)), Prec::Product),
            Op::Embed(i, j) => {
                let unit = unit(&node.ty, &i.to_string(), &j.to_string());
                scaled(a[0], unit)
            }
            Op::Assemble => Text::atom(assembled(&node.ty, &a)),
            Op::Neg => Text::new(format!("−{}", a[0].at(Prec::Product)), Prec::Sum),
            Op::Add => sum("+"),
            Op::Sub => sum("−"),
            Op::Mul => scalar_product(scalar_first(a[0], a[1])),
            Op::Scale => scalar_product((a[0], a[1])),
            Op::MatMul => product((a[0], a[1])),
            Op::TrMul => {
                let transposed = Text::atom(format!("{}ᵀ", a[0].at(Prec::Atom)));
                product((&transposed, a[1]))
            }
            Op::Transpose => postfix("ᵀ"),
            Op::Trace => call("tr"),
            Op::Dot => Text::atom(format!("⟨{}, {}⟩", a[0].text, a[1].text)),
            Op::Sum => call("sum"),
            Op::ComponentMul => Text::new(
                format!("{} ∘ {}", a[0].at(Prec::Product), a[1].at(Prec::Atom)),
                Prec::Product,
            ),
            Op::NormSquared => Text::atom(format!("‖{}‖²", a[0].text)),
            Op::Norm => Text::atom(format!("‖{}‖", a[0].text)),
            Op::Normalize => call("normalize"),
            Op::Index(i, j) => Text::atom(index(&self.g.node(node.args[0]).ty, a[0], *i, *j)),
            Op::Fun(fun) => function(*fun, a[0]),
            Op::Powf => Text::atom(format!("{}^{}", a[0].at(Prec::Atom), a[1].at(Prec::Atom))),
            Op::Max => call("max"),
            Op::Min => call("min"),
            Op::Atan2 => call("atan2"),
            Op::Hypot => call("hypot"),
            Op::CopySign => call("copysign"),
            Op::MulAdd => call("mul_add"),
            Op::Inverse(_) => postfix("⁻¹"),
            Op::Det => call("det"),
            Op::LogDet => call("ln det"),
            Op::Diagonal => call("diag"),
            Op::FromDiagonal => call("Diag"),
            Op::Triangle(Triangle::Upper) => call("triu"),
            Op::Triangle(Triangle::Lower) => call("tril"),
            Op::Cofactor => call("cof"),
            Op::MaxEntry => call("max"),
            Op::MinEntry => call("min"),
            Op::ArgMask(Extremum::Max) => call("argmax_mask"),
            Op::ArgMask(Extremum::Min) => call("argmin_mask"),
            Op::SymEigenvalues => call("eigenvalues"),
            Op::SymEigenvectors => call("eigenvectors"),
            Op::EigenGaps => call("eigen_gaps"),
            Op::Solve(solver) => {
                // The value of a solve, written as the inverse it applies (never formed).
                let mark = match solver {
                    Solver::Lu(_) | Solver::Cholesky => "⁻¹",
                    Solver::LuTransposed => "⁻ᵀ",
                };
                let inverse = Text::atom(format!("{}{mark}", a[0].at(Prec::Atom)));
                product((&inverse, a[1]))
            }
            Op::SymFromLower => call("sym_lower"),
            Op::FoldLower => call("fold_lower"),
            Op::Cholesky(_) => call("chol"),
            Op::LowerHalved => call("lower_halved"),
            Op::StrictLower => call("strict_lower"),
            Op::QrQ => call("qr_q"),
            Op::QrR => call("qr_r"),
            Op::SingularValues => call("singular_values"),
            Op::SvdU => call("svd_u"),
            Op::SvdV => call("svd_v"),
            Op::Call(c) => call(&self.callee(*c)),
            Op::CallVjp(c) => {
                let callee = self.callee(*c);
                call(&format!("({callee}, ∇{callee})"))
            }
            Op::CallTangent(c) => {
                let callee = self.callee(*c);
                call(&format!("d({callee}, ∇{callee})"))
            }
            Op::Field(i) => Text::atom(format!("{}.{i}", a[0].at(Prec::Atom))),
            Op::Int(n) if *n < 0 => Text::new(format!("−{}", n.unsigned_abs()), Prec::Sum),
            Op::Int(n) => Text::atom(n.to_string()),
            Op::SymConst(n) => Text::atom(n.to_string()),
            Op::IntBin(int_op) => integer_arithmetic(*int_op, &a),
            Op::Cmp(cmp) => Text::new(
                format!("{} {} {}", a[0].text, comparison(*cmp), a[1].text),
                Prec::Sum,
            ),
            Op::Bool(b) => Text::atom(b.to_string()),
            Op::Not => Text::atom(format!("¬{}", a[0].at(Prec::Atom))),
            Op::IntToFloat => a[0].clone(),
            Op::Assert(_) => call("assert"),
            Op::At => Text::atom(index_at(&self.g.node(node.args[0]).ty, &a)),
            Op::SetAt => call("with_entry"),
            Op::AddAt => {
                let n = a.len();
                let unit = unit(&node.ty, &a[n - 2].text, &a[n - 1].text);
                let added = scaled(a[1], unit);
                Text::new(
                    format!("{} + {}", a[0].at(Prec::Sum), added.at(Prec::Product)),
                    Prec::Sum,
                )
            }
            Op::Block(r, c) => Text::atom(format!(
                "{}[{} .. ; {r}×{c}]",
                a[0].at(Prec::Atom),
                corner(&a)
            )),
            Op::SetBlock => call("with_block"),
            Op::AddBlock => call("add_to_block"),
            Op::Load => Text::atom(format!("{}[{}]", a[0].at(Prec::Atom), a[1].text)),
            Op::EmptyTape => Text::atom("[]".to_owned()),
            Op::ConstAt(name) => Text::atom(format!("{name}[{}]", a[0].text)),
            Op::Map(_) | Op::Loop(_) | Op::Cond(_) => {
                unreachable!("the ops with a body are printed as blocks")
            }
        }
    }

    fn callee(&self, c: usize) -> String {
        let path = &self.g.callees[c].path;
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        segments.join("::")
    }
}

/// A loop over `0..trip` in order, whose index is its counter.
fn is_plain(spec: &LoopSpec) -> bool {
    matches!(spec.start, SymInt::Lit(0)) && spec.step == 1 && !spec.backward
}

/// `for i in 0..67`, `for k in (0..67).rev() (i = k)`, `for k in 0..N (i = 1 + 2 k)`.
fn loop_header(spec: &LoopSpec, index: &str, counter: &str) -> String {
    let order = if spec.backward {
        format!("{counter} in (0..{}).rev()", spec.trip)
    } else {
        format!("{counter} in 0..{}", spec.trip)
    };
    let index_of = match (&spec.start, spec.step) {
        _ if is_plain(spec) => String::new(),
        (SymInt::Lit(0), 1) => format!(" ({index} = {counter})"),
        (start, 1) => format!(" ({index} = {start} + {counter})"),
        (start, step) => format!(" ({index} = {start} + {step} {counter})"),
    };
    format!("for {order}{index_of}")
}

/// Parameters and constants: written where they are used, never counted as operations.
fn is_leaf(op: &Op) -> bool {
    matches!(
        op,
        Op::Param(_)
            | Op::Lit(_)
            | Op::IntConst(_)
            | Op::FloatConst(_)
            | Op::Identity
            | Op::Int(_)
            | Op::SymConst(_)
            | Op::Bool(_)
            | Op::EmptyTape
            | Op::Field(_)
    )
}

/// A number as a mathematician writes it: `2`, `0.5`, `−1`.
fn number(value: f64) -> Text {
    let text = if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{value:.0}")
    } else {
        format!("{value}")
    };
    match text.strip_prefix('-') {
        Some(magnitude) => Text::new(format!("−{magnitude}"), Prec::Sum),
        None => Text::atom(text),
    }
}

/// A matrix product, `A x`; the right operand's own product in parentheses, `Aᵀ (X v)`,
/// as the program evaluates it.
fn product((x, y): (&Text, &Text)) -> Text {
    juxtaposed(x, y, Prec::Atom)
}

/// A scalar times a value, `2 Xᵀ r`: a scalar commutes with products, so the value's own
/// product needs no parentheses.
fn scalar_product((s, x): (&Text, &Text)) -> Text {
    juxtaposed(s, x, Prec::Product)
}

/// `x y`, with `y` parenthesised unless it binds at least as tightly as `right`; a negative
/// number in front reads `−2 x`.
fn juxtaposed(x: &Text, y: &Text, right: Prec) -> Text {
    let left = if is_number(x) {
        x.text.clone()
    } else {
        x.at(Prec::Product)
    };
    let prec = if left.starts_with('−') {
        Prec::Sum
    } else {
        Prec::Product
    };
    // `a (0.5 r)`, not `a 0.5 r`: a number reads as a factor only in front.
    let right = if y.text.starts_with(|c: char| c.is_ascii_digit() || c == '−') {
        Prec::Atom
    } else {
        right
    };
    Text::new(format!("{left} {}", y.at(right)), prec)
}

fn is_number(t: &Text) -> bool {
    t.text.trim_start_matches('−').parse::<f64>().is_ok()
}

/// `s e(i)`: the matrix of type `ty` with `s` at `(i, j)` and zeros elsewhere (`e(i)` alone
/// for `s = 1`).
fn scaled(s: &Text, unit: String) -> Text {
    if s.text == "1" {
        return Text::atom(unit);
    }
    Text::new(format!("{} {unit}", s.at(Prec::Product)), Prec::Product)
}

/// The unit vector `e(i)` of a column vector type, the unit matrix `e(i, j)` of another.
fn unit(ty: &Ty, i: &str, j: &str) -> String {
    match ty {
        Ty::Mat(_, Dim::Lit(1)) => format!("e({i})"),
        Ty::Mat(Dim::Lit(1), _) => format!("e({j})ᵀ"),
        _ => format!("e({i}, {j})"),
    }
}

/// Scalar factors with a number first: `2 x`, not `x 2`.
fn scalar_first<'t>(x: &'t Text, y: &'t Text) -> (&'t Text, &'t Text) {
    if is_number(y) && !is_number(x) {
        (y, x)
    } else {
        (x, y)
    }
}

fn function(fun: Fun, x: &Text) -> Text {
    let atom = x.at(Prec::Atom);
    match fun {
        Fun::Sqrt => Text::atom(format!("√{atom}")),
        Fun::Abs => Text::atom(format!("|{}|", x.text)),
        Fun::Recip => Text::new(format!("1 / {atom}"), Prec::Product),
        Fun::Powi(n) => Text::atom(format!("{atom}{}", superscript(n))),
        _ => Text::atom(format!("{}({})", fun.name(), x.text)),
    }
}

/// `²`, `⁻¹`: an integer exponent as superscript digits.
fn superscript(n: i32) -> String {
    const DIGITS: [char; 10] = ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'];
    let sign = if n < 0 { "⁻" } else { "" };
    let digits: String = n
        .unsigned_abs()
        .to_string()
        .chars()
        .filter_map(|d| d.to_digit(10).map(|d| DIGITS[d as usize]))
        .collect();
    format!("{sign}{digits}")
}

/// A matrix from its entries, row by row: `[a, b; c, d]` (a vector `[a, b, c]`).
fn assembled(ty: &Ty, entries: &[&Text]) -> String {
    let texts: Vec<&str> = entries.iter().map(|t| t.text.as_str()).collect();
    let Ty::Mat(Dim::Lit(rows), Dim::Lit(cols)) = ty else {
        return format!("[{}]", texts.join(", "));
    };
    if *cols == 1 {
        return format!("[{}]", texts.join(", "));
    }
    let rows: Vec<String> = (0..*rows)
        .map(|i| {
            let row: Vec<&str> = (0..*cols).map(|j| texts[i + rows * j]).collect();
            row.join(", ")
        })
        .collect();
    format!("[{}]", rows.join("; "))
}

/// `x[i]` for a vector, `m[i, j]` for a matrix.
fn index(ty: &Ty, m: &Text, i: usize, j: usize) -> String {
    match ty {
        Ty::Mat(_, Dim::Lit(1)) => format!("{}[{i}]", m.at(Prec::Atom)),
        Ty::Mat(Dim::Lit(1), _) => format!("{}[{j}]", m.at(Prec::Atom)),
        _ => format!("{}[{i}, {j}]", m.at(Prec::Atom)),
    }
}

/// `m[i, j]` at run-time indices: args `(m, i, j)`.
fn index_at(ty: &Ty, a: &[&Text]) -> String {
    let m = a[0].at(Prec::Atom);
    match ty {
        Ty::Mat(_, Dim::Lit(1)) => format!("{m}[{}]", a[1].text),
        _ => format!("{m}[{}]", corner(a)),
    }
}

/// The indices `i, j` of a node whose arguments end with them.
fn corner(a: &[&Text]) -> String {
    let n = a.len();
    format!("{}, {}", a[n - 2].text, a[n - 1].text)
}

fn integer_arithmetic(op: IntOp, a: &[&Text]) -> Text {
    let (sign, prec) = match op {
        IntOp::Add => ("+", Prec::Sum),
        IntOp::Sub => ("−", Prec::Sum),
        IntOp::Mul => ("·", Prec::Product),
        IntOp::Div => ("/", Prec::Product),
        IntOp::Rem => ("mod", Prec::Product),
    };
    let left = a[0].at(prec);
    let right = a[1].at(if prec == Prec::Sum {
        Prec::Product
    } else {
        Prec::Atom
    });
    Text::new(format!("{left} {sign} {right}"), prec)
}

fn comparison(cmp: CmpOp) -> &'static str {
    match cmp {
        CmpOp::Lt => "<",
        CmpOp::Le => "≤",
        CmpOp::Gt => ">",
        CmpOp::Ge => "≥",
        CmpOp::Eq => "=",
        CmpOp::Ne => "≠",
    }
}

fn tuple(items: &[String]) -> String {
    match items {
        [single] => single.clone(),
        several => format!("({})", several.join(", ")),
    }
}
