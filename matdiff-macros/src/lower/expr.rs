//! Expressions: literals, names, operators, methods, indexing, calls and constructors.

use super::{Lowerer, Val};
use crate::ir::{Callee, Dim, Elem, Graph, Id, SymInt, Ty};
use crate::ops::{CmpOp, Fun, IntOp, InverseCheck, Op};
use crate::sig;
use proc_macro2::Span;
use quote::ToTokens;
use std::collections::HashSet;
use syn::spanned::Spanned;
use syn::{BinOp, Expr, Lit, Pat, UnOp};

const MATRIX_METHODS: &str = "`.transpose()`, `.trace()`, `.dot(&y)`, `.component_mul(&y)`, \
     `.component_div(&y)`, `.norm()`, `.norm_squared()`, `.sum()`, `.max()`, `.min()`, \
     `.map(|t| ..)`, `.try_inverse().unwrap()`, `.determinant()`, `.symmetric_eigenvalues()`, \
     `.len()`, `.nrows()`, `.ncols()`, `.shape()`, `.iter()`, `.column(j)`, `.row(i)`, \
     `.columns(j, n)`, `.rows(i, n)`, `.fixed_rows::<K>(i)`, `.fixed_columns::<K>(j)`, \
     `.fixed_view::<R, C>(i, j)`";
const SCALAR_METHODS: &str = "`.exp()`, `.ln()`, `.sqrt()`, `.sin()`, `.cos()`, `.tan()`, \
     `.tanh()`, `.recip()`, `.abs()`, `.signum()`, `.powi(n)`, `.powf(p)`, `.max(y)`, `.min(y)`";
pub(crate) const STRAIGHT_LINE: &str = "matdiff differentiates `let` bindings, assignments, \
     `if`, `match`, `for` loops with static bounds and iterator chains, ending in the value";

impl Lowerer<'_> {
    /// Whether `expr` evaluates to a reference: `&e`, or a binding that holds one.
    pub(super) fn is_reference(&self, expr: &Expr) -> bool {
        match expr {
            Expr::Reference(_) => true,
            Expr::Paren(e) => self.is_reference(&e.expr),
            Expr::Path(p) => p
                .path
                .get_ident()
                .is_some_and(|ident| self.references.contains(&ident.to_string())),
            _ => false,
        }
    }

    pub(super) fn annotated_shape(&self, ty: &syn::Type) -> Option<Ty> {
        let ty = match ty {
            syn::Type::Reference(r) => &*r.elem,
            other => other,
        };
        if let syn::Type::Path(path) = ty {
            if let Some(name) = path.path.get_ident().map(ToString::to_string) {
                if is_integer_type(&name) || name == "bool" {
                    return None;
                }
            }
        }
        match sig::parse_type(ty) {
            Ok((_, shape)) => Some(shape),
            Err(message) => {
                self.cx.error_spanned_by(ty, message);
                None
            }
        }
    }

    /// A float scalar or matrix: `expected` is the shape the context wants, used only to size
    /// `identity()`/`zeros()` written without dimensions.
    pub(super) fn lower_expr(&mut self, expr: &Expr, expected: Option<&Ty>) -> Option<Id> {
        let value = self.value(expr, expected)?;
        self.float_node(&value, expr)
    }

    /// `value` as a float scalar or matrix node, or an error saying what it is instead.
    pub(super) fn float_node(&mut self, value: &Val, expr: &Expr) -> Option<Id> {
        let span = expr.span();
        match value {
            Val::Int(_) if integer_literal(expr).is_some() => {
                self.cx.error_spanned_by(
                    expr,
                    format!(
                        "integer literal where a float is expected; write `{}.0`",
                        integer_literal(expr).unwrap_or(0)
                    ),
                );
                None
            }
            Val::Int(_) | Val::Sym(_) => {
                self.integer_for_float(expr);
                None
            }
            other => {
                let id = self.node_of(other, span, "a float")?;
                match self.graph().ty(id) {
                    Ty::Int => {
                        self.integer_for_float(expr);
                        None
                    }
                    Ty::Bool => {
                        self.cx.error_spanned_by(
                            expr,
                            "a condition where a float is expected; use it in an `if`",
                        );
                        None
                    }
                    _ => Some(id),
                }
            }
        }
    }

    fn integer_for_float(&self, expr: &Expr) {
        let elem = sig::elem_name(self.graph().elem);
        self.cx.error_spanned_by(
            expr,
            format!("an integer where a float is expected; convert it with `as {elem}`"),
        );
    }

    /// Any expression.
    pub(super) fn value(&mut self, expr: &Expr, expected: Option<&Ty>) -> Option<Val> {
        let node = |this: &Self, id: Option<Id>| id.map(|id| this.val(id));
        match expr {
            Expr::Lit(lit) => self.lower_lit(&lit.lit),
            Expr::Path(path) => self.lower_path(path),
            Expr::Paren(e) => self.value(&e.expr, expected),
            Expr::Group(e) => self.value(&e.expr, expected),
            Expr::Reference(r) if r.mutability.is_none() => self.value(&r.expr, expected),
            Expr::Unary(u) => self.lower_unary(u, expected),
            Expr::Binary(b) if compound_assignment(&b.op).is_some() => {
                self.lower_compound_assign(b)
            }
            Expr::Binary(b) => self.lower_binary(b),
            Expr::MethodCall(call) => self.lower_method(call),
            Expr::Index(index) => self.lower_index(index),
            Expr::Call(call) => self.lower_call(call, expected),
            Expr::Block(block) if block.label.is_none() => self.lower_block(&block.block),
            Expr::Cast(cast) => self.lower_cast(cast),
            Expr::Tuple(tuple) => {
                let parts: Option<Vec<Val>> =
                    tuple.elems.iter().map(|e| self.value(e, None)).collect();
                parts.map(Val::Tuple)
            }
            Expr::Field(field) => self.lower_field(field),
            Expr::If(branch) => self.lower_if(branch),
            Expr::Match(m) => self.lower_match(m),
            Expr::ForLoop(for_loop) => self.lower_for(for_loop),
            Expr::Range(range) => self.lower_range(range),
            Expr::Closure(closure) => Some(Val::Closure(std::rc::Rc::new(closure.clone()))),
            Expr::Macro(mac) => self.lower_macro(&mac.mac),
            Expr::Assign(assign) => self.lower_assign(assign),
            other => {
                let _ = node;
                let message = unsupported_expr(other).unwrap_or_else(|| {
                    format!(
                        "this expression is not supported in a differentiated function; \
                         supported are parameters, `let` bindings, literals, operators, \
                         matrix methods {MATRIX_METHODS}, scalar methods {SCALAR_METHODS}, \
                         indexing, `if`, `match`, `for` and iterator chains"
                    )
                });
                self.cx.error_spanned_by(other, message);
                None
            }
        }
    }

    /// `t.0` of a tuple.
    fn lower_field(&mut self, field: &syn::ExprField) -> Option<Val> {
        let base = self.value(&field.base, None)?;
        let index = match &field.member {
            syn::Member::Unnamed(index) => index.index as usize,
            syn::Member::Named(name) => {
                if let Some(v) = self.vector_field(&base, name, &field.base) {
                    return v;
                }
                self.cx.error_spanned_by(
                    field,
                    "named fields are not supported; matdiff's values are matrices, scalars and \
                     tuples (`t.0`)",
                );
                return None;
            }
        };
        match base {
            Val::Tuple(parts) if index < parts.len() => Some(parts[index].clone()),
            other => {
                let kind = other.kind();
                self.cx
                    .error_spanned_by(field, format!("no field {index} on {kind}"));
                None
            }
        }
    }

    /// `v.x`, `v.y`, `v.z`, `v.w` of a vector: its entries 0 to 3.
    fn vector_field(
        &mut self,
        base: &Val,
        name: &proc_macro2::Ident,
        expr: &Expr,
    ) -> Option<Option<Val>> {
        let i = ["x", "y", "z", "w"].iter().position(|f| name == f)?;
        let Val::Node(..) = base else {
            return None;
        };
        let m = self.float_node(base, expr)?;
        let (r, c) = match self.graph().ty(m) {
            Ty::Mat(_, Dim::Lit(1)) => (i, 0),
            Ty::Mat(Dim::Lit(1), _) => (0, i),
            _ => return None,
        };
        Some(
            self.g()
                .try_add(Op::Index(r, c), &[m], name.span())
                .map_err(|message| self.cx.error_spanned_by(name, message))
                .ok()
                .map(|id| self.val(id)),
        )
    }

    /// `i as f64` (an integer, known here or not), `N as f64` (a const generic or named
    /// integer constant), `x as f64` (a float already of that type), and casts between
    /// integer types, which change nothing here.
    fn lower_cast(&mut self, cast: &syn::ExprCast) -> Option<Val> {
        let elem = sig::elem_name(self.graph().elem);
        let span = cast.span();
        let target = match &*cast.ty {
            syn::Type::Path(p) => p.path.get_ident().map(ToString::to_string),
            _ => None,
        };
        let to_integer = target.as_deref().is_some_and(is_integer_type);
        if target.as_deref() != Some(elem) && !to_integer {
            self.cx.error_spanned_by(
                &cast.ty,
                format!(
                    "`as` casts are supported only to the element type `{elem}` and between \
                     integer types"
                ),
            );
            return None;
        }
        // A name not bound in the body is an integer constant in scope (`N as f64`).
        if let Expr::Path(path) = &*cast.expr {
            if let Some(ident) = path.path.get_ident() {
                let name = ident.to_string();
                if self.lookup(&name).is_none() && !self.outer_names.contains(&name) {
                    if to_integer {
                        return Some(Val::Sym(SymInt::Name(ident.clone())));
                    }
                    let op = Op::IntConst(ident.clone());
                    let id = self.g().add_typed(op, &[], Ty::Scalar, span);
                    return Some(self.val(id));
                }
            }
        }
        let value = self.value(&cast.expr, None)?;
        if to_integer {
            return match self.int_of(&value, span) {
                Some(_) => Some(value),
                None => {
                    self.cx.error_spanned_by(
                        cast,
                        "only integers can be cast to an integer type; matdiff does not \
                         truncate floats",
                    );
                    None
                }
            };
        }
        match &value {
            Val::Int(n) => {
                #[allow(clippy::cast_precision_loss, reason = "as the user's `as` does")]
                let id = self.g().lit(*n as f64, span);
                Some(self.val(id))
            }
            Val::Sym(SymInt::Name(name)) => {
                let op = Op::IntConst(name.clone());
                let id = self.g().add_typed(op, &[], Ty::Scalar, span);
                Some(self.val(id))
            }
            other => {
                let id = self.node_of(other, span, "a number")?;
                let id = match self.graph().ty(id) {
                    Ty::Int => self.g().add(Op::IntToFloat, &[id], span),
                    Ty::Scalar => id,
                    other => {
                        let kind = other.describe();
                        self.cx.error_spanned_by(
                            cast,
                            format!(
                                "this cast is not supported; `as {elem}` applies to integers and \
                                 scalars, not to a {kind}"
                            ),
                        );
                        return None;
                    }
                };
                Some(self.val(id))
            }
        }
    }

    fn lower_lit(&mut self, lit: &Lit) -> Option<Val> {
        let span = lit.span();
        match lit {
            Lit::Float(f) => {
                let suffix = f.suffix();
                let elem = sig::elem_name(self.graph().elem);
                if !suffix.is_empty() && suffix != elem {
                    self.cx.error_spanned_by(
                        f,
                        format!(
                            "this literal is `{suffix}` but the function computes in `{elem}`; \
                             drop the suffix"
                        ),
                    );
                    return None;
                }
                // Parsed in the element type, as rustc does: decimal to f64 to f32 would round
                // twice.
                let value = match self.graph().elem {
                    Elem::F32 => f.base10_parse::<f32>().map(f64::from),
                    Elem::F64 => f.base10_parse::<f64>(),
                };
                match value {
                    Ok(value) => {
                        let id = self.g().lit(value, span);
                        Some(self.val(id))
                    }
                    Err(e) => {
                        self.cx.syn_error(e);
                        None
                    }
                }
            }
            // `3f64` is a float written without a point.
            Lit::Int(i) if matches!(i.suffix(), "f64" | "f32") => {
                let float =
                    syn::LitFloat::new(&format!("{}{}", i.base10_digits(), i.suffix()), span);
                self.lower_lit(&Lit::Float(float))
            }
            Lit::Int(i) => match i.base10_parse::<i64>() {
                Ok(n) => Some(Val::Int(n)),
                Err(e) => {
                    self.cx.syn_error(e);
                    None
                }
            },
            Lit::Bool(b) => Some(Val::Bool(b.value)),
            other => {
                self.cx.error_spanned_by(
                    other,
                    "only float, integer and `bool` literals are supported",
                );
                None
            }
        }
    }

    fn lower_path(&mut self, path: &syn::ExprPath) -> Option<Val> {
        if let Some(ident) = path.path.get_ident() {
            return match self.lookup(&ident.to_string()) {
                Some(binding) => match &binding.val {
                    Some(Val::Uninit) => {
                        self.cx.error_spanned_by(
                            ident,
                            format!("`{ident}` is used before it is assigned a value"),
                        );
                        None
                    }
                    val => val.clone(),
                },
                None if is_constant_name(ident)
                    && !self.outer_names.contains(&ident.to_string()) =>
                {
                    Some(Val::Named(ident.clone()))
                }
                None if self.in_closure => {
                    self.cx.error_spanned_by(
                        ident,
                        format!(
                            "a `.map()` closure can use only its own argument and literals, not \
                             `{ident}`; apply `{ident}` outside the map, as in `(m * s).map(..)`"
                        ),
                    );
                    None
                }
                None => {
                    self.cx.error_spanned_by(
                        ident,
                        format!(
                            "cannot find `{ident}` among the parameters and `let` bindings; a \
                             differentiated function can use its own parameters and locals, and \
                             scalar constants named in upper case like `SCALE`; pass `{ident}` \
                             as a parameter"
                        ),
                    );
                    None
                }
            };
        }
        if let Some(value) = float_constant(&path.path) {
            let id = self.g().lit(value, path.span());
            return Some(self.val(id));
        }
        self.cx.error_spanned_by(
            path,
            format!(
                "unsupported path `{}`; use a parameter, a `let` binding, or a float constant \
                 such as `std::f64::consts::PI`",
                path.to_token_stream().to_string().replace(' ', "")
            ),
        );
        None
    }

    fn lower_unary(&mut self, unary: &syn::ExprUnary, expected: Option<&Ty>) -> Option<Val> {
        let span = unary.span();
        match unary.op {
            UnOp::Deref(_) => self.value(&unary.expr, expected),
            UnOp::Neg(_) => {
                let x = self.value(&unary.expr, expected)?;
                if self.int_of(&x, span).is_some() {
                    return self.int_arith(IntOp::Sub, &Val::Int(0), &x, span);
                }
                let x = self.float_node(&x, &unary.expr)?;
                let id = self.g().add(Op::Neg, &[x], span);
                Some(self.val(id))
            }
            UnOp::Not(_) => {
                let c = self.value(&unary.expr, None)?;
                self.not(&c, span)
            }
            _ => {
                let op = unary.op.to_token_stream();
                self.cx.error_spanned_by(
                    unary,
                    format!(
                        "the operator `{op}` is not supported; supported are `+`, `-`, `*`, `/`, \
                         unary `-` and `!`"
                    ),
                );
                None
            }
        }
    }

    /// `!c`.
    pub(super) fn not(&mut self, c: &Val, span: Span) -> Option<Val> {
        if let Val::Bool(b) = c {
            return Some(Val::Bool(!b));
        }
        let c = self.condition_node(c, span)?;
        let id = self.g().add(Op::Not, &[c], span);
        Some(self.val(id))
    }

    /// A condition node.
    pub(super) fn condition_node(&mut self, c: &Val, span: Span) -> Option<Id> {
        let id = self.node_of(c, span, "a condition")?;
        if self.graph().ty(id) == &Ty::Bool {
            return Some(id);
        }
        self.cx.error_at(
            span,
            "expected a condition such as `a < b`; matdiff's conditions compare scalars or \
             integers",
        );
        None
    }

    fn lower_binary(&mut self, binary: &syn::ExprBinary) -> Option<Val> {
        if let BinOp::And(_) | BinOp::Or(_) = binary.op {
            return self.lower_logic(binary);
        }
        if let Some(cmp) = comparison(&binary.op) {
            let left = self.value(&binary.left, None)?;
            let right = self.value(&binary.right, None)?;
            return self.compare(cmp, &left, &right, binary);
        }
        let Some(op) = arithmetic(&binary.op) else {
            let op = binary.op.to_token_stream();
            self.cx.error_spanned_by(
                binary.op,
                format!(
                    "the operator `{op}` is not supported; supported are `+`, `-`, `*`, `/`, `%` \
                     on integers, comparisons, `&&`, `||` and `!`"
                ),
            );
            return None;
        };
        if sizeless_constructor(&binary.left) || sizeless_constructor(&binary.right) {
            let (left, right) = self.lower_operands(&binary.left, &binary.right, &op);
            return self
                .float_binary(op, left?, right?, binary)
                .map(|id| self.val(id));
        }
        let left = self.value(&binary.left, None)?;
        let right = self.value(&binary.right, None)?;
        self.binary_values(op, &left, &right, binary, (&binary.left, &binary.right))
    }

    /// `left op right` on values: integer arithmetic when both are integers, float
    /// arithmetic otherwise.
    pub(super) fn binary_values(
        &mut self,
        op: Op,
        left: &Val,
        right: &Val,
        spanned: &dyn ToTokens,
        operands: (&Expr, &Expr),
    ) -> Option<Val> {
        let span = spanned.to_token_stream().span();
        let span = if span.source_text().is_some() {
            span
        } else {
            operands.0.span()
        };
        let named = |v: &Val| matches!(v, Val::Named(_));
        let int_left = !named(left) && self.int_of(left, span).is_some();
        let int_right = !named(right) && self.int_of(right, span).is_some();
        if (int_left || named(left)) && (int_right || named(right)) && (int_left || int_right) {
            let int_op = match op {
                Op::Add => IntOp::Add,
                Op::Sub => IntOp::Sub,
                Op::MatMul => IntOp::Mul,
                Op::Fun(Fun::Recip) => IntOp::Div,
                _ => IntOp::Rem,
            };
            let (left, right) = (as_integer(left), as_integer(right));
            return self.int_arith(int_op, &left, &right, span);
        }
        if op == Op::Fun(Fun::Step) {
            self.cx.error_spanned_by(
                spanned.to_token_stream(),
                "`%` is supported on integers only",
            );
            return None;
        }
        let left = self.float_node(left, operands.0);
        let right = self.float_node(right, operands.1);
        let id = self.float_binary(op, left?, right?, spanned)?;
        Some(self.val(id))
    }

    /// `left op right` on float scalars and matrices.
    fn float_binary(&mut self, op: Op, left: Id, right: Id, spanned: &dyn ToTokens) -> Option<Id> {
        let span = spanned.to_token_stream().span();
        let (lt, rt) = (
            self.graph().ty(left).clone(),
            self.graph().ty(right).clone(),
        );
        let result = match (op, lt.is_scalar(), rt.is_scalar()) {
            (Op::MatMul, true, true) => self.g().try_add(Op::Mul, &[left, right], span),
            (Op::MatMul, true, false) => self.g().try_add(Op::Scale, &[left, right], span),
            (Op::MatMul, false, true) => self.g().try_add(Op::Scale, &[right, left], span),
            (Op::Fun(_), _, true) => {
                let inverse = self.g().add(Op::Fun(Fun::Recip), &[right], span);
                let op = if lt.is_scalar() { Op::Mul } else { Op::Scale };
                self.g().try_add(op, &[inverse, left], span)
            }
            (Op::Fun(_), _, false) => Err(format!(
                "division by a {} is not supported; divide by a scalar, or multiply by \
                 `m.try_inverse().unwrap()`",
                rt.describe()
            )),
            (op, _, _) => self.g().try_add(op, &[left, right], span),
        };
        result
            .map_err(|message| self.cx.error_spanned_by(spanned.to_token_stream(), message))
            .ok()
    }

    /// The integer `v` is, known here (`Ok`) or at run time (`Err` with its node); `None` when
    /// it is not an integer.
    pub(super) fn int_of(&mut self, v: &Val, span: Span) -> Option<Result<SymInt, Id>> {
        match v {
            Val::Int(n) => Some(Ok(SymInt::Lit(*n))),
            Val::Sym(s) => Some(Ok(s.clone())),
            // A constant in scope used as an integer (`0..N`, `x[K]`).
            Val::Named(name) => Some(Ok(SymInt::Name(name.clone()))),
            Val::Node(serial, id) => {
                let id = self.here(*serial, *id, span)?;
                (self.graph().ty(id) == &Ty::Int).then_some(Err(id))
            }
            _ => None,
        }
    }

    /// An integer node for `v`.
    pub(super) fn int_node(&mut self, v: &Val, span: Span) -> Option<Id> {
        match self.int_of(v, span)? {
            Ok(SymInt::Lit(n)) => Some(self.g().add_typed(Op::Int(n), &[], Ty::Int, span)),
            Ok(s) => Some(self.g().add_typed(Op::SymConst(s), &[], Ty::Int, span)),
            Err(id) => Some(id),
        }
    }

    /// Integer arithmetic, folded when both sides are known here.
    pub(super) fn int_arith(&mut self, op: IntOp, a: &Val, b: &Val, span: Span) -> Option<Val> {
        let (x, y) = (self.int_of(a, span)?, self.int_of(b, span)?);
        match (x, y) {
            (Ok(SymInt::Lit(x)), Ok(SymInt::Lit(y))) => {
                let value = match op {
                    IntOp::Add => x.checked_add(y),
                    IntOp::Sub => x.checked_sub(y),
                    IntOp::Mul => x.checked_mul(y),
                    IntOp::Div => x.checked_div(y),
                    IntOp::Rem => x.checked_rem(y),
                };
                if value.is_none() {
                    self.cx
                        .error_at(span, "this integer arithmetic overflows or divides by zero");
                }
                value.map(Val::Int)
            }
            (Ok(x), Ok(y)) => Some(Val::Sym(sym_arith(op, x, y))),
            _ => {
                let (a, b) = (self.int_node(a, span)?, self.int_node(b, span)?);
                let id = self.g().add(Op::IntBin(op), &[a, b], span);
                Some(self.val(id))
            }
        }
    }

    /// A comparison of two integers or two scalars.
    fn compare(&mut self, cmp: CmpOp, a: &Val, b: &Val, binary: &syn::ExprBinary) -> Option<Val> {
        let span = binary.span();
        let (ia, ib) = (self.int_of(a, span), self.int_of(b, span));
        if let (Some(x), Some(y)) = (&ia, &ib) {
            if let (Ok(SymInt::Lit(x)), Ok(SymInt::Lit(y))) = (x, y) {
                return Some(Val::Bool(cmp.holds(x, y)));
            }
            let (x, y) = (self.int_node(a, span)?, self.int_node(b, span)?);
            let id = self.g().add(Op::Cmp(cmp), &[x, y], span);
            return Some(self.val(id));
        }
        if let (Val::Bool(x), Val::Bool(y)) = (a, b) {
            if matches!(cmp, CmpOp::Eq | CmpOp::Ne) {
                return Some(Val::Bool(cmp.holds(x, y)));
            }
        }
        let x = self.float_node(a, &binary.left);
        let y = self.float_node(b, &binary.right);
        let (x, y) = (x?, y?);
        if !self.graph().ty(x).is_scalar() || !self.graph().ty(y).is_scalar() {
            self.cx.error_spanned_by(
                binary,
                "comparisons are supported between scalars and between integers; compare \
                 entries, norms or sums of matrices",
            );
            return None;
        }
        let id = self.g().add(Op::Cmp(cmp), &[x, y], span);
        Some(self.val(id))
    }

    /// Lowers both sides; a side that is a sizeless `identity()`/`zeros()` is lowered second,
    /// sized by the other.
    fn lower_operands(&mut self, left: &Expr, right: &Expr, op: &Op) -> (Option<Id>, Option<Id>) {
        if sizeless_constructor(left) && !sizeless_constructor(right) {
            let r = self.lower_expr(right, None);
            let hint = r.map(|r| operand_hint(self.graph().ty(r), op, false));
            let l = self.lower_expr(left, hint.flatten().as_ref());
            return (l, r);
        }
        let l = self.lower_expr(left, None);
        let hint = l.map(|l| operand_hint(self.graph().ty(l), op, true));
        let r = self.lower_expr(right, hint.flatten().as_ref());
        (l, r)
    }

    // -----------------------------------------------------------------------------------------
    // Assignment.

    /// `x = e`, `m[(i, j)] = e`, `v[i] = e`.
    pub(super) fn lower_assign(&mut self, assign: &syn::ExprAssign) -> Option<Val> {
        let value = self.value(&assign.right, None);
        self.store(&assign.left, value, assign)
    }

    /// `x op= e`, also on entries: `x = x op e`.
    pub(super) fn lower_compound_assign(&mut self, binary: &syn::ExprBinary) -> Option<Val> {
        let op = compound_assignment(&binary.op).expect("a compound assignment");
        let current = self.value(&binary.left, None);
        let right = self.value(&binary.right, None);
        let value = self.binary_values(
            op,
            &current?,
            &right?,
            binary,
            (&binary.left, &binary.right),
        );
        self.store(&binary.left, value, binary)
    }

    /// Writes `value` to the place `target` names: a `let mut` binding, or an entry of one.
    fn store(&mut self, target: &Expr, value: Option<Val>, spanned: &dyn ToTokens) -> Option<Val> {
        match target {
            Expr::Paren(p) => self.store(&p.expr, value, spanned),
            Expr::Path(path) if path.path.get_ident().is_some() => {
                let ident = path.path.get_ident().expect("checked above");
                self.check_mutable(ident)?;
                let Some(value) = value else {
                    self.rebind(&ident.to_string(), None);
                    return None;
                };
                if self.check_same_type(ident, &value, spanned).is_none() {
                    // Poisoned: later uses would only repeat the error.
                    self.rebind(&ident.to_string(), None);
                    return None;
                }
                self.rebind(&ident.to_string(), Some(value));
                Some(Val::Unit)
            }
            Expr::Index(index) => {
                let Expr::Path(path) = &*index.expr else {
                    return self.unsupported_target(target);
                };
                let Some(ident) = path.path.get_ident() else {
                    return self.unsupported_target(target);
                };
                self.check_mutable(ident)?;
                let span = index.span();
                let matrix = self.lower_expr(&index.expr, None)?;
                let (i, j) = self.index_pair(matrix, &index.index)?;
                let value = self.float_node(&value?, target)?;
                let updated = self
                    .g()
                    .try_add(Op::SetAt, &[matrix, value, i, j], span)
                    .map_err(|message| self.cx.error_spanned_by(index, message))
                    .ok()?;
                let updated = self.val(updated);
                self.rebind(&ident.to_string(), Some(updated));
                Some(Val::Unit)
            }
            other => self.unsupported_target(other),
        }
    }

    fn unsupported_target(&self, target: &Expr) -> Option<Val> {
        self.cx.error_spanned_by(
            target,
            "assignment is supported to a `let mut` variable (`x = ..`, `x += ..`) and to its \
             entries (`m[(i, j)] = ..`, `v[i] += ..`)",
        );
        None
    }

    /// `Some` when the binding `ident` may be assigned.
    pub(super) fn check_mutable(&self, ident: &proc_macro2::Ident) -> Option<()> {
        let Some(binding) = self.lookup(&ident.to_string()) else {
            self.cx.error_spanned_by(
                ident,
                format!("cannot find `{ident}` among the parameters and `let` bindings"),
            );
            return None;
        };
        if binding.borrowed {
            self.cx.error_spanned_by(
                ident,
                format!(
                    "`{ident}` is a parameter taken by `&` and cannot be changed; copy it first: \
                     `let mut {ident} = *{ident};`"
                ),
            );
            return None;
        }
        if !binding.mutable && !matches!(binding.val, Some(Val::Uninit)) {
            self.cx.error_spanned_by(
                ident,
                format!("`{ident}` is not declared `mut`; write `let mut {ident} = ..;`"),
            );
            return None;
        }
        // A poisoned binding takes no new value, and reports nothing more.
        binding.val.as_ref().map(|_| ())
    }

    /// Rust keeps a variable's type: an assignment of another shape is reported here.
    fn check_same_type(
        &mut self,
        ident: &proc_macro2::Ident,
        value: &Val,
        spanned: &dyn ToTokens,
    ) -> Option<()> {
        let span = ident.span();
        let Some(Some(old)) = self.lookup(&ident.to_string()).map(|b| b.val.clone()) else {
            return Some(());
        };
        let (Val::Node(s1, a), Val::Node(s2, b)) = (&old, value) else {
            return Some(());
        };
        let (a, b) = (self.here(*s1, *a, span)?, self.here(*s2, *b, span)?);
        let (ta, tb) = (self.graph().ty(a).clone(), self.graph().ty(b).clone());
        if ta == tb {
            return Some(());
        }
        self.cx.error_spanned_by(
            spanned.to_token_stream(),
            format!(
                "`{ident}` is a {} but this assigns a {}",
                ta.describe(),
                tb.describe()
            ),
        );
        None
    }

    /// `m.set_column(j, &c)`, `m.set_row(i, &r)`, `m.fixed_view_mut::<R, C>(i, j)
    /// .copy_from(&b)` (and the other `_mut` views): the update of a `let mut` matrix.
    pub(super) fn lower_update_method(&mut self, call: &syn::ExprMethodCall) -> Option<Val> {
        let span = call.span();
        let (target, i, j, block) = match call.method.to_string().as_str() {
            "set_column" | "set_row" if call.args.len() == 2 => {
                let zero = Val::Int(0);
                let at = self.value(&call.args[0], None)?;
                let block = self.lower_expr(&call.args[1], None)?;
                let (i, j) = if call.method == "set_column" {
                    (zero, at)
                } else {
                    (at, zero)
                };
                (&*call.receiver, i, j, block)
            }
            "copy_from" if call.args.len() == 1 => {
                let Expr::MethodCall(view) = &*call.receiver else {
                    return self.unsupported_update(call);
                };
                let block = self.lower_expr(&call.args[0], None)?;
                let (i, j) = self.view_origin(view)?;
                (&*view.receiver, i, j, block)
            }
            _ => return self.unsupported_update(call),
        };
        let Expr::Path(path) = target else {
            return self.unsupported_update(call);
        };
        let Some(ident) = path.path.get_ident() else {
            return self.unsupported_update(call);
        };
        self.check_mutable(ident)?;
        let matrix = self.lower_expr(target, None)?;
        let (i, j) = (self.int_node(&i, span)?, self.int_node(&j, span)?);
        let updated = self
            .g()
            .try_add(Op::SetBlock, &[matrix, block, i, j], span)
            .map_err(|message| self.cx.error_spanned_by(call, message))
            .ok()?;
        let updated = self.val(updated);
        self.rebind(&ident.to_string(), Some(updated));
        Some(Val::Unit)
    }

    fn unsupported_update(&self, call: &syn::ExprMethodCall) -> Option<Val> {
        self.cx.error_spanned_by(
            call,
            "supported updates of a `let mut` matrix are `m.set_column(j, &c)`, \
             `m.set_row(i, &r)` and `m.<view>_mut(..).copy_from(&b)` with a view such as \
             `column_mut(j)`, `row_mut(i)` or `fixed_view_mut::<R, C>(i, j)`",
        );
        None
    }

    /// Where the `_mut` view `view` starts: `(i, j)`.
    fn view_origin(&mut self, view: &syn::ExprMethodCall) -> Option<(Val, Val)> {
        let args: Option<Vec<Val>> = view.args.iter().map(|a| self.value(a, None)).collect();
        let args = args?;
        let zero = Val::Int(0);
        let origin = match (view.method.to_string().as_str(), args.as_slice()) {
            ("column_mut" | "fixed_columns_mut" | "columns_mut", [j, ..]) => (zero, j.clone()),
            ("row_mut" | "fixed_rows_mut" | "rows_mut", [i, ..]) => (i.clone(), zero),
            ("fixed_view_mut" | "view_mut", [i, j, ..]) => (i.clone(), j.clone()),
            _ => {
                self.unsupported_update_view(view);
                return None;
            }
        };
        Some(origin)
    }

    fn unsupported_update_view(&self, view: &syn::ExprMethodCall) {
        self.cx.error_spanned_by(
            view,
            "`copy_from` is supported on `column_mut(j)`, `row_mut(i)`, `fixed_columns_mut`, \
             `fixed_rows_mut` and `fixed_view_mut::<R, C>(i, j)` of a `let mut` matrix",
        );
    }

    fn lower_method(&mut self, call: &syn::ExprMethodCall) -> Option<Val> {
        if let Some(inverse) = try_inverse_receiver(call) {
            let id = self.lower_inverse(call, inverse)?;
            return Some(self.val(id));
        }
        if is_update_method(call) {
            return self.lower_update_method(call);
        }
        let receiver = self.value(&call.receiver, None)?;
        if let Val::Named(name) = &receiver {
            if let Some(value) = self.constant_array_method(call, name) {
                return value;
            }
        }
        if let Val::Iter(iter) = &receiver {
            return self.iterator_method(call, iter);
        }
        if !matches!(receiver, Val::Named(_))
            && self.int_of(&receiver, call.receiver.span()).is_some()
        {
            return self.integer_method(call, &receiver);
        }
        let receiver = self.float_node(&receiver, &call.receiver)?;
        if let Some(value) = self.structural_method(call, receiver) {
            return value;
        }
        self.float_method(call, receiver).map(|id| self.val(id))
    }

    /// `DATA.len()` and `DATA.iter()` of a float array constant in scope.
    fn constant_array_method(
        &mut self,
        call: &syn::ExprMethodCall,
        name: &proc_macro2::Ident,
    ) -> Option<Option<Val>> {
        let len = SymInt::Len(name.clone());
        match call.method.to_string().as_str() {
            "len" if call.args.is_empty() => Some(Some(Val::Sym(len))),
            "iter" if call.args.is_empty() => Some(Some(Val::Iter(std::rc::Rc::new(
                super::control::Iter::constant_array(name.clone(), len),
            )))),
            _ => None,
        }
    }

    /// `a.min(b)`, `a.max(b)` of integers.
    fn integer_method(&mut self, call: &syn::ExprMethodCall, receiver: &Val) -> Option<Val> {
        let span = call.span();
        let name = call.method.to_string();
        if !matches!(name.as_str(), "min" | "max") || call.args.len() != 1 {
            self.cx.error_spanned_by(
                &call.method,
                format!(
                    "unsupported method `.{name}()` on an integer; integers support arithmetic, \
                    comparisons, `.min(k)`, `.max(k)` and `as f64`"
                ),
            );
            return None;
        }
        let other = self.value(&call.args[0], None)?;
        let (Some(Ok(a)), Some(Ok(b))) = (self.int_of(receiver, span), self.int_of(&other, span))
        else {
            self.cx.error_spanned_by(
                call,
                format!("`.{name}()` is supported on integers known at compile time"),
            );
            return None;
        };
        let value = match (a, b, name.as_str()) {
            (SymInt::Lit(a), SymInt::Lit(b), "min") => SymInt::Lit(a.min(b)),
            (SymInt::Lit(a), SymInt::Lit(b), _) => SymInt::Lit(a.max(b)),
            (a, b, "min") => SymInt::Min(Box::new(a), Box::new(b)),
            (a, b, _) => SymInt::Max(Box::new(a), Box::new(b)),
        };
        Some(match value {
            SymInt::Lit(n) => Val::Int(n),
            other => Val::Sym(other),
        })
    }

    /// Sizes, views and `.iter()` of a matrix: `None` when `call` is none of them.
    fn structural_method(&mut self, call: &syn::ExprMethodCall, m: Id) -> Option<Option<Val>> {
        let Ty::Mat(rows, cols) = self.graph().ty(m).clone() else {
            return None;
        };
        let span = call.span();
        let name = call.method.to_string();
        let size = |d: &Dim| match d {
            Dim::Lit(n) => Val::Int(i64::try_from(*n).unwrap_or(i64::MAX)),
            Dim::Param(name) => Val::Sym(SymInt::Name(name.clone())),
        };
        let arity = match name.as_str() {
            "len" | "nrows" | "ncols" | "shape" | "iter" | "into_owned" | "clone_owned" => 0,
            "column" | "row" | "fixed_rows" | "fixed_columns" => 1,
            "columns" | "rows" | "fixed_view" => 2,
            _ => return None,
        };
        if !self.expect_args(call, arity) {
            return Some(None);
        }
        let value = match name.as_str() {
            "len" => {
                let (r, c) = (size(&rows), size(&cols));
                return Some(self.int_arith(IntOp::Mul, &r, &c, span));
            }
            "nrows" => size(&rows),
            "ncols" => size(&cols),
            "shape" => Val::Tuple(vec![size(&rows), size(&cols)]),
            "iter" => Val::Iter(std::rc::Rc::new(super::control::Iter::elements(
                self.val(m),
                rows,
                cols,
            ))),
            "into_owned" | "clone_owned" => self.val(m),
            _ => return Some(self.lower_view(call, m, rows, cols)),
        };
        Some(Some(value))
    }

    /// `column(j)`, `row(i)`, `columns(j, n)`, `rows(i, n)`, `fixed_rows::<K>(i)`,
    /// `fixed_columns::<K>(j)`, `fixed_view::<R, C>(i, j)`: a copy of the block.
    fn lower_view(
        &mut self,
        call: &syn::ExprMethodCall,
        m: Id,
        rows: Dim,
        cols: Dim,
    ) -> Option<Val> {
        let span = call.span();
        let name = call.method.to_string();
        let generics = self.view_generics(call)?;
        let args: Option<Vec<Val>> = call.args.iter().map(|a| self.value(a, None)).collect();
        let args = args?;
        let zero = Val::Int(0);
        let (i, j, r, c) = match (name.as_str(), args.as_slice(), generics.as_slice()) {
            ("column", [j], []) => (zero, j.clone(), rows, Dim::Lit(1)),
            ("row", [i], []) => (i.clone(), zero, Dim::Lit(1), cols),
            ("columns", [j, n], []) => (zero, j.clone(), rows, self.static_dim(n, &call.args[1])?),
            ("rows", [i, n], []) => (i.clone(), zero, self.static_dim(n, &call.args[1])?, cols),
            ("fixed_rows", [i], [k]) => (i.clone(), zero, k.clone(), cols),
            ("fixed_columns", [j], [k]) => (zero, j.clone(), rows, k.clone()),
            ("fixed_view", [i, j], [r, c]) => (i.clone(), j.clone(), r.clone(), c.clone()),
            _ => {
                self.cx.error_spanned_by(
                    call,
                    format!(
                        "`.{name}()` needs its sizes: `fixed_rows::<K>(i)`, \
                    `fixed_columns::<K>(j)`, `fixed_view::<R, C>(i, j)`"
                    ),
                );
                return None;
            }
        };
        let i = self.int_node(&i, span);
        let j = self.int_node(&j, span);
        let (Some(i), Some(j)) = (i, j) else {
            self.cx
                .error_spanned_by(&call.args, "a view's position must be an integer");
            return None;
        };
        let id = self
            .g()
            .try_add(Op::Block(r, c), &[m, i, j], span)
            .map_err(|message| self.cx.error_spanned_by(call, message))
            .ok()?;
        Some(self.val(id))
    }

    /// The sizes of `fixed_rows::<K>`, `fixed_view::<R, C>`: literals or const generics.
    fn view_generics(&self, call: &syn::ExprMethodCall) -> Option<Vec<Dim>> {
        let Some(turbofish) = &call.turbofish else {
            return Some(Vec::new());
        };
        let mut dims = Vec::new();
        for arg in &turbofish.args {
            let dim = match arg {
                syn::GenericArgument::Const(e) => integer_literal(e)
                    .and_then(|n| usize::try_from(n).ok())
                    .map(Dim::Lit),
                syn::GenericArgument::Type(syn::Type::Path(p)) => {
                    p.path.get_ident().map(|i| Dim::Param(i.clone()))
                }
                _ => None,
            };
            let Some(dim) = dim else {
                self.cx.error_spanned_by(
                    arg,
                    "a view's size must be an integer literal or a const generic",
                );
                return None;
            };
            dims.push(dim);
        }
        Some(dims)
    }

    /// A size known at compile time, as a dimension.
    fn static_dim(&mut self, n: &Val, expr: &Expr) -> Option<Dim> {
        match n {
            Val::Int(n) if *n >= 0 => usize::try_from(*n).ok().map(Dim::Lit),
            Val::Sym(SymInt::Name(name)) | Val::Named(name) => Some(Dim::Param(name.clone())),
            _ => {
                self.cx.error_spanned_by(
                    expr,
                    "the size of a view must be known at compile time: a literal or a const \
                    generic",
                );
                None
            }
        }
    }

    /// The methods of a float scalar or matrix.
    fn float_method(&mut self, call: &syn::ExprMethodCall, receiver: Id) -> Option<Id> {
        let name = call.method.to_string();
        let span = call.span();
        if let Some(turbofish) = &call.turbofish {
            if !matches!(name.as_str(), "sum" | "product") {
                self.cx.error_spanned_by(
                    turbofish,
                    format!("a turbofish `::<...>` on `.{name}()` is not supported; remove it"),
                );
                return None;
            }
        }
        let args: Vec<Option<Id>> = match name.as_str() {
            // Their arguments are read as syntax (an integer, a closure), not lowered.
            "powi" | "map" => Vec::new(),
            _ => call.args.iter().map(|a| self.lower_expr(a, None)).collect(),
        };
        let args: Vec<Id> = args.into_iter().collect::<Option<_>>()?;
        let receiver_ty = self.graph().ty(receiver).clone();
        let (op, arity) = match (name.as_str(), receiver_ty.is_scalar()) {
            ("clone", _) => return self.expect_args(call, 0).then_some(receiver),
            ("transpose", false) => (Op::Transpose, 0),
            ("trace", false) => (Op::Trace, 0),
            ("dot", false) => (Op::Dot, 1),
            ("component_mul", false) => (Op::ComponentMul, 1),
            ("norm_squared", false) => (Op::NormSquared, 0),
            ("norm", false) => (Op::Norm, 0),
            ("sum", false) => (Op::Sum, 0),
            ("max", false) => (Op::MaxEntry, 0),
            ("min", false) => (Op::MinEntry, 0),
            ("determinant", false) => (Op::Det, 0),
            ("symmetric_eigenvalues", false) => (Op::SymEigenvalues, 0),
            ("map", false) => return self.lower_map(call, receiver),
            ("component_div", false) => return self.lower_component_div(call, receiver, &args),
            ("try_inverse", false) => {
                self.cx.error_spanned_by(
                    call,
                    "`.try_inverse()` returns an `Option`; write `.try_inverse().unwrap()` or \
                     `.try_inverse().expect(\"...\")`",
                );
                return None;
            }
            ("powi", true) => {
                let exponent = self.powi_exponent(call)?;
                (Op::Fun(Fun::Powi(exponent)), 0)
            }
            ("powf", true) => (Op::Powf, 1),
            ("max", true) => (Op::Max, 1),
            ("min", true) => (Op::Min, 1),
            (name, true) if Fun::from_method(name).is_some() => {
                (Op::Fun(Fun::from_method(name)?), 0)
            }
            (name, _) => {
                self.unknown_method(call, name, &receiver_ty);
                return None;
            }
        };
        if !matches!(op, Op::Fun(Fun::Powi(_))) && !self.expect_args(call, arity) {
            return None;
        }
        let mut operands = vec![receiver];
        operands.extend(args);
        self.g()
            .try_add(op, &operands, span)
            .map_err(|message| self.cx.error_spanned_by(call, message))
            .ok()
    }

    /// `m.try_inverse().unwrap()` or `m.try_inverse().expect("...")`, with `inverse` the
    /// `m.try_inverse()` part.
    fn lower_inverse(
        &mut self,
        call: &syn::ExprMethodCall,
        inverse: &syn::ExprMethodCall,
    ) -> Option<Id> {
        let check = match (call.method.to_string().as_str(), string_args(call)) {
            ("unwrap", Some(messages)) if messages.is_empty() => InverseCheck::Unwrap,
            ("expect", Some(messages)) if messages.len() == 1 => {
                InverseCheck::Expect(messages[0].clone())
            }
            _ => {
                self.cx.error_spanned_by(
                    call,
                    "unsupported use of `.try_inverse()`; write `.try_inverse().unwrap()` or \
                     `.try_inverse().expect(\"message\")` with a string literal",
                );
                return None;
            }
        };
        let matrix = self.lower_expr(&inverse.receiver, None)?;
        self.g()
            .try_add(Op::Inverse(check), &[matrix], call.span())
            .map_err(|message| self.cx.error_spanned_by(inverse, message))
            .ok()
    }

    /// `m.map(|t| <scalar expression in t>)` or `m.map(f64::exp)`: the closure is lowered to
    /// a scalar graph of its own, which the rules differentiate for `f'` and `f''`.
    fn lower_map(&mut self, call: &syn::ExprMethodCall, matrix: Id) -> Option<Id> {
        if !self.expect_args(call, 1) {
            return None;
        }
        let f = match &call.args[0] {
            Expr::Closure(closure) => self.lower_closure(closure)?,
            Expr::Path(path) => match scalar_function_path(&path.path) {
                Some(fun) => self.scalar_fn_of(fun),
                None => {
                    self.cx.error_spanned_by(
                        path,
                        format!(
                            "unsupported function in `.map()`; use a closure such as \
                             `|t| 1.0 / (1.0 + (-t).exp())` or a path such as `f64::exp` to \
                             one of {SCALAR_METHODS}"
                        ),
                    );
                    return None;
                }
            },
            other => {
                self.cx.error_spanned_by(
                    other,
                    "`.map()` needs a closure such as `|t| t.tanh()` or a path such as `f64::exp`",
                );
                return None;
            }
        };
        self.g()
            .try_add(Op::Map(f), &[matrix], call.span())
            .map_err(|message| self.cx.error_spanned_by(call, message))
            .ok()
    }

    fn lower_closure(&mut self, closure: &syn::ExprClosure) -> Option<usize> {
        let argument = match closure.inputs.iter().collect::<Vec<_>>().as_slice() {
            [Pat::Ident(p)] if p.by_ref.is_none() && p.subpat.is_none() => p.ident.clone(),
            [Pat::Type(typed)] => match &*typed.pat {
                Pat::Ident(p) => p.ident.clone(),
                other => {
                    self.cx
                        .error_spanned_by(other, "use a plain name for the closure's argument");
                    return None;
                }
            },
            [other] => {
                self.cx
                    .error_spanned_by(other, "use a plain name for the closure's argument");
                return None;
            }
            _ => {
                // `|a, b|` or `||`: the bars too, so that `||` has a span.
                let (or1, inputs, or2) = (closure.or1_token, &closure.inputs, closure.or2_token);
                self.cx.error_spanned_by(
                    quote::quote!(#or1 #inputs #or2),
                    "a `.map()` closure takes one argument, the entry: `|t| ...`",
                );
                return None;
            }
        };
        let mut body = Graph::new(self.graph().elem);
        let t = body.add_typed(Op::Param(0), &[], Ty::Scalar, argument.span());
        // The closure's body is a scalar function of its own argument; a name of the
        // function around it is reported, never frozen as a constant.
        let outer_names: HashSet<String> = self
            .scopes
            .iter()
            .flat_map(|scope| scope.names.keys().cloned())
            .collect();
        let mut scope = super::Scope::default();
        scope.names.insert(
            argument.to_string(),
            super::Binding {
                val: Some(Val::Node(0, t)),
                mutable: false,
                borrowed: false,
            },
        );
        let mut inner = Lowerer {
            cx: self.cx,
            sig: self.sig,
            frames: vec![super::Frame::new(body, 0, Vec::new())],
            next_frame: 1,
            scopes: vec![scope],
            in_closure: true,
            outer_names,
            references: HashSet::new(),
            in_loop: 0,
        };
        let output = inner.lower_expr(&closure.body, None);
        let body = inner.frames.pop().expect("the closure's frame").graph;
        let output = output?;
        if !body.ty(output).is_scalar() {
            self.cx
                .error_spanned_by(&closure.body, "a `.map()` closure must return a scalar");
            return None;
        }
        Some(self.g().add_scalar_fn(body, output))
    }

    /// The scalar function `t -> fun(t)`.
    fn scalar_fn_of(&mut self, fun: Fun) -> usize {
        let span = Span::call_site();
        let mut body = Graph::new(self.graph().elem);
        let t = body.add_typed(Op::Param(0), &[], Ty::Scalar, span);
        let output = body.add(Op::Fun(fun), &[t], span);
        self.g().add_scalar_fn(body, output)
    }

    /// `a.component_div(&b)` as `a ∘ map(recip)(b)`, so its rules are those of its parts.
    fn lower_component_div(
        &mut self,
        call: &syn::ExprMethodCall,
        a: Id,
        args: &[Id],
    ) -> Option<Id> {
        if !self.expect_args(call, 1) {
            return None;
        }
        let span = call.span();
        let recip = self.scalar_fn_of(Fun::Recip);
        let shapes = (self.graph().ty(a).clone(), self.graph().ty(args[0]).clone());
        if shapes.0 != shapes.1 {
            self.cx.error_spanned_by(
                call,
                format!(
                    "dimension mismatch in `.component_div()`: left is {}, right is {}",
                    shapes.0.describe(),
                    shapes.1.describe()
                ),
            );
            return None;
        }
        let inverse = self.g().try_add(Op::Map(recip), &[args[0]], span).ok()?;
        self.g().try_add(Op::ComponentMul, &[a, inverse], span).ok()
    }

    fn expect_args(&self, call: &syn::ExprMethodCall, arity: usize) -> bool {
        if call.args.len() == arity {
            return true;
        }
        let plural = if arity == 1 { "" } else { "s" };
        self.cx.error_spanned_by(
            call,
            format!("`.{}()` takes {arity} argument{plural}", call.method),
        );
        false
    }

    fn powi_exponent(&self, call: &syn::ExprMethodCall) -> Option<i32> {
        let exponent = match call.args.iter().collect::<Vec<_>>().as_slice() {
            [arg] => integer_literal(arg).and_then(|n| i32::try_from(n).ok()),
            _ => None,
        };
        if exponent.is_none() {
            self.cx.error_spanned_by(
                call,
                "`.powi()` needs an integer literal exponent, such as `.powi(2)`; for another \
                 exponent use `.powf(p)`",
            );
        }
        exponent
    }

    fn unknown_method(&self, call: &syn::ExprMethodCall, name: &str, receiver: &Ty) {
        let message = if receiver.is_scalar() {
            let hint = if matches!(
                name,
                "transpose" | "trace" | "dot" | "component_mul" | "norm" | "norm_squared" | "sum"
            ) {
                format!("`.{name}()` is a matrix method but the receiver is a scalar; ")
            } else {
                format!("unsupported method `.{name}()` on a scalar; ")
            };
            format!("{hint}the supported scalar methods are {SCALAR_METHODS}")
        } else {
            let kind = receiver.describe();
            let hint = if SCALAR_METHODS.contains(&format!("`.{name}(")) {
                format!("`.{name}()` is a scalar method but the receiver is a {kind}; ")
            } else {
                format!("unsupported method `.{name}()` on a {kind}; ")
            };
            format!("{hint}the supported matrix and vector methods are {MATRIX_METHODS}")
        };
        self.cx.error_spanned_by(&call.method, message);
    }

    fn lower_index(&mut self, index: &syn::ExprIndex) -> Option<Val> {
        let span = index.span();
        let base = self.value(&index.expr, None)?;
        if let Val::Named(name) = &base {
            return self.constant_array_entry(name, &index.index, span);
        }
        let m = self.float_node(&base, &index.expr)?;
        let (i, j) = self.index_position(m, &index.index)?;
        let id = match (&i, &j) {
            (Val::Int(i), Val::Int(j)) => {
                let (Ok(i), Ok(j)) = (usize::try_from(*i), usize::try_from(*j)) else {
                    self.cx
                        .error_spanned_by(&index.index, "an index cannot be negative");
                    return None;
                };
                self.g().try_add(Op::Index(i, j), &[m], span)
            }
            _ => {
                let (i, j) = (self.int_node(&i, span)?, self.int_node(&j, span)?);
                self.g().try_add(Op::At, &[m, i, j], span)
            }
        };
        let id = id
            .map_err(|message| self.cx.error_spanned_by(index, message))
            .ok()?;
        Some(self.val(id))
    }

    /// `DATA[i]` of a float array constant in scope.
    fn constant_array_entry(
        &mut self,
        name: &proc_macro2::Ident,
        index: &Expr,
        span: Span,
    ) -> Option<Val> {
        let i = self.value(index, None)?;
        let Some(i) = self.int_node(&i, span) else {
            self.cx
                .error_spanned_by(index, "a constant array is indexed by an integer");
            return None;
        };
        let id = self.g().add(Op::ConstAt(name.clone()), &[i], span);
        Some(self.val(id))
    }

    /// The integer nodes of row and column that `index` names in matrix `m`.
    pub(super) fn index_pair(&mut self, m: Id, index: &Expr) -> Option<(Id, Id)> {
        let span = index.span();
        let (i, j) = self.index_position(m, index)?;
        Some((self.int_node(&i, span)?, self.int_node(&j, span)?))
    }

    /// Row and column of `m[index]`: `m[(i, j)]`, or `v[k]` of a vector, or the column-major
    /// `m[k]` of a matrix.
    fn index_position(&mut self, m: Id, index: &Expr) -> Option<(Val, Val)> {
        let span = index.span();
        let position = match index {
            Expr::Paren(p) => return self.index_position(m, &p.expr),
            Expr::Tuple(t) if t.elems.len() == 2 => {
                let i = self.value(&t.elems[0], None)?;
                let j = self.value(&t.elems[1], None)?;
                (i, j)
            }
            other => {
                let k = self.value(other, None)?;
                if self.int_of(&k, span).is_none() {
                    self.not_an_index(index);
                    return None;
                }
                let ty = self.graph().ty(m).clone();
                match &ty {
                    Ty::Mat(_, Dim::Lit(1)) | Ty::Scalar => (k, Val::Int(0)),
                    Ty::Mat(Dim::Lit(1), _) => (Val::Int(0), k),
                    Ty::Mat(rows, _) => {
                        let rows = match rows {
                            Dim::Lit(n) => Val::Int(i64::try_from(*n).unwrap_or(i64::MAX)),
                            Dim::Param(name) => Val::Sym(SymInt::Name(name.clone())),
                        };
                        let i = self.int_arith(IntOp::Rem, &k, &rows, span)?;
                        let j = self.int_arith(IntOp::Div, &k, &rows, span)?;
                        (i, j)
                    }
                    other => {
                        self.cx.error_spanned_by(
                            index,
                            format!("a {} cannot be indexed", other.describe()),
                        );
                        return None;
                    }
                }
            }
        };
        if self.int_of(&position.0, span).is_none() || self.int_of(&position.1, span).is_none() {
            self.not_an_index(index);
            return None;
        }
        Some(position)
    }

    fn not_an_index(&self, index: &Expr) {
        self.cx.error_spanned_by(
            index,
            "an index must be an integer, such as `v[0]`, `v[i + 1]` or `m[(i, j)]`",
        );
    }

    /// `f(&x, y)` for another `#[differentiate]` function `f`: the chain rule goes through
    /// the `__matdiff_f_vjp` / `__matdiff_f_tangent` functions its attribute generated.
    fn lower_differentiated_call(&mut self, call: &syn::ExprCall) -> Option<Id> {
        let Expr::Path(path) = &*call.func else {
            self.cx.error_spanned_by(
                &call.func,
                "only calls of functions by name are supported, such as `loss(&w, x)`",
            );
            return None;
        };
        if let Some(method_call) = float_function_call(path, call) {
            let value = self.lower_method(&method_call)?;
            return self.float_node(&value, &Expr::MethodCall(method_call));
        }
        if path.qself.is_some() || path.path.segments.iter().any(|s| !s.arguments.is_none()) {
            self.cx.error_spanned_by(
                path,
                "calls with generic arguments are not supported; let the compiler infer them",
            );
            return None;
        }
        let mut by_ref = Vec::new();
        let mut args = Vec::new();
        for arg in &call.args {
            by_ref.push(self.is_reference(arg));
            let value = self.value(arg, None);
            args.push(value.and_then(|v| match v {
                Val::Int(_) | Val::Sym(_) | Val::Bool(_) => {
                    self.node_of(&v, arg.span(), "an argument")
                }
                v => {
                    let id = self.node_of(&v, arg.span(), "an argument")?;
                    match self.graph().ty(id) {
                        Ty::Int | Ty::Bool | Ty::Scalar | Ty::Mat(..) => Some(id),
                        _ => self.float_node(&v, arg),
                    }
                }
            }));
        }
        let args: Vec<Id> = args.into_iter().collect::<Option<_>>()?;
        if args.is_empty() {
            self.cx.error_spanned_by(
                call,
                "a call to another differentiated function needs at least one argument",
            );
            return None;
        }
        let scalar_args = args
            .iter()
            .map(|&a| self.graph().ty(a).is_scalar())
            .collect();
        let int_args = args
            .iter()
            .map(|&a| matches!(self.graph().ty(a), Ty::Int | Ty::Bool))
            .collect();
        let callee = Callee {
            path: path.path.clone(),
            by_ref,
            scalar_args,
            int_args,
        };
        let c = self.g().add_callee(callee);
        self.g()
            .try_add(Op::Call(c), &args, call.span())
            .map_err(|message| self.cx.error_spanned_by(call, message))
            .ok()
    }

    /// `SMatrix::<f64, 3, 3>::identity()`, `Matrix3::identity()`, `SMatrix::zeros()`, ...
    fn lower_call(&mut self, call: &syn::ExprCall, expected: Option<&Ty>) -> Option<Val> {
        if let Expr::Path(path) = &*call.func {
            if let Some(ident) = path.path.get_ident() {
                if let Some(Some(Val::Closure(closure))) =
                    self.lookup(&ident.to_string()).map(|b| b.val.clone())
                {
                    let args: Option<Vec<Val>> =
                        call.args.iter().map(|a| self.value(a, None)).collect();
                    return self.call_closure(&closure, args?, call.span());
                }
                if *ident == self.sig.func.sig.ident {
                    self.cx.error_spanned_by(
                        call,
                        "recursion is not supported: a differentiated function cannot call \
                    itself; write the recursion as a `for` loop with a static trip count",
                    );
                    return None;
                }
            }
        }
        self.lower_call_node(call, expected).map(|id| self.val(id))
    }

    fn lower_call_node(&mut self, call: &syn::ExprCall, expected: Option<&Ty>) -> Option<Id> {
        let span = call.span();
        let constructor = match &*call.func {
            Expr::Path(path) => constructor(&path.path),
            _ => None,
        };
        let Some((kind, type_segment)) = constructor else {
            return self.lower_differentiated_call(call);
        };
        if !call.args.is_empty() {
            self.cx
                .error_spanned_by(call, format!("`{kind}()` takes no arguments"));
            return None;
        }
        let named = match sig::shape_of_segment(type_segment) {
            Ok((_, shape)) => shape,
            Err(message) => {
                self.cx.error_spanned_by(type_segment, message);
                return None;
            }
        };
        let Some(ty) = named.or_else(|| expected.cloned()) else {
            self.cx.error_spanned_by(
                call,
                format!(
                    "cannot infer the dimensions of `{kind}()`; write them, as in \
                     `SMatrix::<f64, 3, 3>::{kind}()` or `Matrix3::{kind}()`, or annotate the \
                     `let`"
                ),
            );
            return None;
        };
        if ty.is_scalar() {
            self.cx
                .error_spanned_by(call, format!("`{kind}()` builds a matrix, not a scalar"));
            return None;
        }
        Some(match kind {
            "identity" => self.g().add_typed(Op::Identity, &[], ty, span),
            _ => {
                let zero = self.g().lit(0.0, span);
                self.g().add_typed(Op::Fill, &[zero], ty, span)
            }
        })
    }
}

/// The message for a construct matdiff never differentiates, worded for what it is.
fn unsupported_expr(expr: &Expr) -> Option<String> {
    let message = match expr {
        Expr::While(_) | Expr::Loop(_) | Expr::Break(_) | Expr::Continue(_) => {
            super::control::UNBOUNDED_LOOP.to_owned()
        }
        Expr::Return(_) => "`return` is supported at the top level of the function's body and \
                    inside its `if`s; make the returned value the final expression"
            .to_owned(),
        Expr::Try(_) => {
            "`?` is not supported; a differentiated function returns a plain scalar".to_owned()
        }
        Expr::Reference(_) => "`&mut` is not supported; declare the variable `let mut` and \
                               assign to it"
            .to_owned(),
        Expr::Unsafe(_) | Expr::Async(_) | Expr::Await(_) | Expr::Const(_) => {
            let what = match expr {
                Expr::Unsafe(_) => "`unsafe` blocks are",
                Expr::Async(_) => "`async` blocks are",
                Expr::Await(_) => "`.await` is",
                _ => "`const` blocks are",
            };
            format!("{what} not supported; {STRAIGHT_LINE}")
        }
        _ => return None,
    };
    Some(message)
}

/// The arithmetic of `x op= y` for a compound assignment operator.
pub(super) fn compound_assignment(op: &BinOp) -> Option<Op> {
    Some(match op {
        BinOp::AddAssign(_) => Op::Add,
        BinOp::SubAssign(_) => Op::Sub,
        BinOp::MulAssign(_) => Op::MatMul,
        BinOp::DivAssign(_) => Op::Fun(Fun::Recip),
        BinOp::RemAssign(_) => Op::Fun(Fun::Step),
        _ => return None,
    })
}

/// The arithmetic operators: `*` is a matrix product (or scalar product by shape), `/` a
/// division by a scalar, `%` (marked `Fun::Step`) integer remainder.
fn arithmetic(op: &BinOp) -> Option<Op> {
    Some(match op {
        BinOp::Add(_) => Op::Add,
        BinOp::Sub(_) => Op::Sub,
        BinOp::Mul(_) => Op::MatMul,
        BinOp::Div(_) => Op::Fun(Fun::Recip),
        BinOp::Rem(_) => Op::Fun(Fun::Step),
        _ => return None,
    })
}

fn comparison(op: &BinOp) -> Option<CmpOp> {
    Some(match op {
        BinOp::Lt(_) => CmpOp::Lt,
        BinOp::Le(_) => CmpOp::Le,
        BinOp::Gt(_) => CmpOp::Gt,
        BinOp::Ge(_) => CmpOp::Ge,
        BinOp::Eq(_) => CmpOp::Eq,
        BinOp::Ne(_) => CmpOp::Ne,
        _ => return None,
    })
}

/// A `Named` constant in integer arithmetic is an integer constant.
fn as_integer(v: &Val) -> Val {
    match v {
        Val::Named(name) => Val::Sym(SymInt::Name(name.clone())),
        other => other.clone(),
    }
}

/// `x op y` on symbolic integers, folding literals.
pub(super) fn sym_arith(op: IntOp, x: SymInt, y: SymInt) -> SymInt {
    match (op, &x, &y) {
        (IntOp::Add | IntOp::Sub, _, SymInt::Lit(0))
        | (IntOp::Mul | IntOp::Div, _, SymInt::Lit(1)) => return x,
        (IntOp::Add, SymInt::Lit(0), _) | (IntOp::Mul, SymInt::Lit(1), _) => return y,
        _ => {}
    }
    let (x, y) = (Box::new(x), Box::new(y));
    match op {
        IntOp::Add => SymInt::Add(x, y),
        IntOp::Sub => SymInt::Sub(x, y),
        IntOp::Mul => SymInt::Mul(x, y),
        IntOp::Div => SymInt::Div(x, y),
        IntOp::Rem => SymInt::Rem(x, y),
    }
}

pub(super) fn is_integer_type(name: &str) -> bool {
    matches!(
        name,
        "usize" | "isize" | "u8" | "u16" | "u32" | "u64" | "i8" | "i16" | "i32" | "i64"
    )
}

/// `m.set_column(..)`, `m.set_row(..)`, `m.<view>_mut(..).copy_from(..)`: statements that
/// update a `let mut` matrix.
pub(super) fn is_update_method(call: &syn::ExprMethodCall) -> bool {
    let name = call.method.to_string();
    matches!(name.as_str(), "set_column" | "set_row")
        || (name == "copy_from"
            && matches!(&*call.receiver, Expr::MethodCall(view) if view.method.to_string().ends_with("_mut")))
}

/// The shape an operand gives its sizeless partner in `op`.
fn operand_hint(ty: &Ty, op: &Op, known_is_left: bool) -> Option<Ty> {
    match (op, ty) {
        (Op::Add | Op::Sub, _) => Some(ty.clone()),
        // `A * I` with A r x c needs I c x c; `I * A` needs I r x r.
        (Op::MatMul, Ty::Mat(r, c)) => {
            let n = if known_is_left { c } else { r };
            Some(Ty::Mat(n.clone(), n.clone()))
        }
        _ => None,
    }
}

fn sizeless_constructor(expr: &Expr) -> bool {
    let Expr::Call(call) = expr else {
        return false;
    };
    let Expr::Path(path) = &*call.func else {
        return false;
    };
    constructor(&path.path).is_some_and(|(_, segment)| {
        matches!(&segment.arguments, syn::PathArguments::None)
            && matches!(
                segment.ident.to_string().as_str(),
                "SMatrix" | "SVector" | "RowSVector"
            )
    })
}

/// `Type::identity` or `Type::zeros`: the constructor's name and the type's segment.
fn constructor(path: &syn::Path) -> Option<(&'static str, &syn::PathSegment)> {
    let n = path.segments.len();
    if n < 2 {
        return None;
    }
    let kind = match path.segments[n - 1].ident.to_string().as_str() {
        "identity" => "identity",
        "zeros" => "zeros",
        _ => return None,
    };
    Some((kind, &path.segments[n - 2]))
}

pub(super) fn integer_literal(expr: &Expr) -> Option<i64> {
    match expr {
        Expr::Lit(syn::ExprLit {
            lit: Lit::Int(i), ..
        }) if i.suffix().is_empty() || is_integer_type(i.suffix()) => i.base10_parse::<i64>().ok(),
        Expr::Unary(syn::ExprUnary {
            op: UnOp::Neg(_),
            expr,
            ..
        }) => integer_literal(expr).map(|n| -n),
        _ => None,
    }
}

/// `SCALE`, `LAMBDA_2`: by Rust's naming convention the name of a constant, which the
/// generated code can name as the user's function does.
fn is_constant_name(ident: &proc_macro2::Ident) -> bool {
    let name = ident.to_string();
    name.chars().any(|c| c.is_ascii_uppercase())
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// `f64::ln(x)`, `f32::max(a, b)`, ... as the method calls `x.ln()`, `a.max(b)`.
fn float_function_call(path: &syn::ExprPath, call: &syn::ExprCall) -> Option<syn::ExprMethodCall> {
    let segments: Vec<&syn::PathSegment> = path.path.segments.iter().collect();
    let [float, method] = segments.as_slice() else {
        return None;
    };
    if !matches!(float.ident.to_string().as_str(), "f64" | "f32") || call.args.is_empty() {
        return None;
    }
    let mut args = call.args.iter().cloned();
    Some(syn::ExprMethodCall {
        attrs: Vec::new(),
        receiver: Box::new(args.next()?),
        dot_token: syn::token::Dot::default(),
        method: method.ident.clone(),
        turbofish: None,
        paren_token: call.paren_token,
        args: args.collect(),
    })
}

/// The `m.try_inverse()` in `m.try_inverse().unwrap()` / `.expect(..)`.
fn try_inverse_receiver(call: &syn::ExprMethodCall) -> Option<&syn::ExprMethodCall> {
    if !matches!(call.method.to_string().as_str(), "unwrap" | "expect") {
        return None;
    }
    match &*call.receiver {
        Expr::MethodCall(inner) if inner.method == "try_inverse" && inner.args.is_empty() => {
            Some(inner)
        }
        _ => None,
    }
}

/// The arguments of a call if all are string literals.
fn string_args(call: &syn::ExprMethodCall) -> Option<Vec<String>> {
    call.args
        .iter()
        .map(|arg| match arg {
            Expr::Lit(syn::ExprLit {
                lit: Lit::Str(s), ..
            }) => Some(s.value()),
            _ => None,
        })
        .collect()
}

/// `f64::exp`, `f32::tanh`, ...: a scalar function named by path.
fn scalar_function_path(path: &syn::Path) -> Option<Fun> {
    let names: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    match names.as_slice() {
        [float, name] if matches!(float.as_str(), "f64" | "f32") => Fun::from_method(name),
        _ => None,
    }
}

/// `std::f64::consts::PI`, `f64::consts::E`, `core::f32::consts::TAU`, `f64::INFINITY`, ...
fn float_constant(path: &syn::Path) -> Option<f64> {
    use std::f64::consts;
    let names: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    if let [.., float, name] = names.as_slice() {
        if matches!(float.as_str(), "f64" | "f32") {
            let value = match name.as_str() {
                "INFINITY" => Some(f64::INFINITY),
                "NEG_INFINITY" => Some(f64::NEG_INFINITY),
                "NAN" => Some(f64::NAN),
                "MAX" if float == "f64" => Some(f64::MAX),
                "MIN" if float == "f64" => Some(f64::MIN),
                "EPSILON" if float == "f64" => Some(f64::EPSILON),
                "MAX" => Some(f64::from(f32::MAX)),
                "MIN" => Some(f64::from(f32::MIN)),
                "EPSILON" => Some(f64::from(f32::EPSILON)),
                _ => None,
            };
            if value.is_some() {
                return value;
            }
        }
    }
    let [.., float, module, name] = names.as_slice() else {
        return None;
    };
    if module != "consts" || !matches!(float.as_str(), "f64" | "f32") {
        return None;
    }
    Some(match name.as_str() {
        "PI" => consts::PI,
        "TAU" => consts::TAU,
        "E" => consts::E,
        "SQRT_2" => consts::SQRT_2,
        "LN_2" => consts::LN_2,
        "LN_10" => consts::LN_10,
        "FRAC_PI_2" => consts::FRAC_PI_2,
        "FRAC_1_SQRT_2" => consts::FRAC_1_SQRT_2,
        _ => return None,
    })
}
