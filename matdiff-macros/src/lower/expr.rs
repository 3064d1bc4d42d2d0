//! Expressions: literals, names, operators, casts, assignment and indexing. Methods are in
//! `methods.rs`, calls in `calls.rs`, control flow in `control.rs`.

use super::methods::{supported, Receiver};
use super::symbolic::sym_arith;
use super::syntax::{
    arithmetic, comparison, compound_assignment, float_constant, integer_literal, is_constant_name,
    is_integer_type, sizeless_constructor, unsupported_expr, Arith,
};
use super::{Lowerer, Val};
use crate::build::Build;
use crate::ir::{Dim, Elem, Id, SymInt, Ty};
use crate::ops::{CmpOp, Fun, IntOp, Op};
use crate::sig;
use proc_macro2::Span;
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{BinOp, Expr, Lit, UnOp};

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
                         method calls, indexing, `if`, `match`, `for` and iterator chains; the \
                         matrix methods are {}; the scalar methods are {}",
                        supported(Receiver::Matrix),
                        supported(Receiver::Scalar)
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
                if let Val::Factor(factor) = &base {
                    return self.factor_field(field, factor, name);
                }
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
                if self.lookup(&name).is_none() {
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
                None if is_constant_name(ident) => Some(Val::Named(ident.clone())),
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
            let (left, right) = self.lower_operands(&binary.left, &binary.right, op);
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
        op: Arith,
        left: &Val,
        right: &Val,
        spanned: &dyn ToTokens,
        operands: (&Expr, &Expr),
    ) -> Option<Val> {
        let span = spanned.to_token_stream().span();
        let named = |v: &Val| matches!(v, Val::Named(_));
        let int_left = !named(left) && self.int_of(left, span).is_some();
        let int_right = !named(right) && self.int_of(right, span).is_some();
        if (int_left || named(left)) && (int_right || named(right)) && (int_left || int_right) {
            let int_op = match op {
                Arith::Add => IntOp::Add,
                Arith::Sub => IntOp::Sub,
                Arith::Mul => IntOp::Mul,
                Arith::Div => IntOp::Div,
                Arith::Rem => IntOp::Rem,
            };
            let (left, right) = (as_integer(left), as_integer(right));
            return self.int_arith(int_op, &left, &right, span);
        }
        if op == Arith::Rem {
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
    fn float_binary(
        &mut self,
        op: Arith,
        left: Id,
        right: Id,
        spanned: &dyn ToTokens,
    ) -> Option<Id> {
        let span = spanned.to_token_stream().span();
        let (lt, rt) = (
            self.graph().ty(left).clone(),
            self.graph().ty(right).clone(),
        );
        let result = match (op, lt.is_scalar(), rt.is_scalar()) {
            (Arith::Add, _, _) => self.g().try_add(Op::Add, &[left, right], span),
            (Arith::Sub, _, _) => self.g().try_add(Op::Sub, &[left, right], span),
            (Arith::Mul, true, true) => self.g().try_add(Op::Mul, &[left, right], span),
            (Arith::Mul, true, false) => self.g().try_add(Op::Scale, &[left, right], span),
            (Arith::Mul, false, true) => self.g().try_add(Op::Scale, &[right, left], span),
            (Arith::Mul, false, false) => self.g().try_add(Op::MatMul, &[left, right], span),
            (Arith::Div, _, true) => {
                let inverse = self.g().add(Op::Fun(Fun::Recip), &[right], span);
                let op = if lt.is_scalar() { Op::Mul } else { Op::Scale };
                self.g().try_add(op, &[inverse, left], span)
            }
            (Arith::Div, _, false) => Err(format!(
                "division by a {} is not supported; divide by a scalar, or multiply by \
                 `m.try_inverse().unwrap()`",
                rt.describe()
            )),
            (Arith::Rem, _, _) => Err("`%` is supported on integers only".to_owned()),
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
    fn lower_operands(&mut self, left: &Expr, right: &Expr, op: Arith) -> (Option<Id>, Option<Id>) {
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
            "apply" => return self.lower_apply(call),
            // `a.component_mul_assign(&b)` is `a = a.component_mul(&b)`.
            "component_mul_assign" if call.args.len() == 1 => {
                let Expr::Path(path) = &*call.receiver else {
                    return self.unsupported_update(call);
                };
                let Some(ident) = path.path.get_ident() else {
                    return self.unsupported_update(call);
                };
                self.check_mutable(ident)?;
                let a = self.lower_expr(&call.receiver, None)?;
                let b = self.lower_expr(&call.args[0], None)?;
                let product = self
                    .g()
                    .try_add(Op::ComponentMul, &[a, b], span)
                    .map_err(|message| self.cx.error_spanned_by(call, message))
                    .ok()?;
                let product = self.val(product);
                self.rebind(&ident.to_string(), Some(product));
                return Some(Val::Unit);
            }
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
             `m.set_row(i, &r)`, `m.component_mul_assign(&b)`, `m.apply(|t| *t = ..)` and \
             `m.<view>_mut(..).copy_from(&b)` with a view such as `column_mut(j)`, \
             `row_mut(i)` or `fixed_view_mut::<R, C>(i, j)`",
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

    /// Row and column of entry `k` of an `rows x cols` matrix in column-major order (nalgebra's
    /// `m[k]`): `(k, 0)` of a vector, `(0, k)` of a row vector.
    pub(super) fn linear_position(
        &mut self,
        k: &Val,
        rows: &Dim,
        cols: &Dim,
        span: Span,
    ) -> Option<(Val, Val)> {
        Some(match (rows, cols) {
            (_, Dim::Lit(1)) => (k.clone(), Val::Int(0)),
            (Dim::Lit(1), _) => (Val::Int(0), k.clone()),
            (rows, _) => {
                let rows = Val::size(rows);
                let i = self.int_arith(IntOp::Rem, k, &rows, span)?;
                let j = self.int_arith(IntOp::Div, k, &rows, span)?;
                (i, j)
            }
        })
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
                    // The shape rule reports that a scalar cannot be indexed.
                    Ty::Scalar => (k, Val::Int(0)),
                    Ty::Mat(rows, cols) => self.linear_position(&k, rows, cols, span)?,
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
}

/// A `Named` constant in integer arithmetic is an integer constant.
fn as_integer(v: &Val) -> Val {
    match v {
        Val::Named(name) => Val::Sym(SymInt::Name(name.clone())),
        other => other.clone(),
    }
}

/// The shape an operand gives its sizeless partner in `op`.
fn operand_hint(ty: &Ty, op: Arith, known_is_left: bool) -> Option<Ty> {
    match (op, ty) {
        (Arith::Add | Arith::Sub, _) => Some(ty.clone()),
        // `A * I` with A r x c needs I c x c; `I * A` needs I r x r.
        (Arith::Mul, Ty::Mat(r, c)) => {
            let n = if known_is_left { c } else { r };
            Some(Ty::Mat(n.clone(), n.clone()))
        }
        _ => None,
    }
}
