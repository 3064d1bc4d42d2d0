//! Lowering: the user's function body (syn) to the IR, inferring every value's static shape.
//!
//! This is the only place that knows nalgebra's surface syntax on the input side. Errors are
//! collected in a [`Ctxt`] so one build reports every unsupported expression; a binding whose
//! value failed to lower is remembered as poisoned so it causes no follow-on errors.

use crate::ctxt::Ctxt;
use crate::ir::{Callee, Dim, Elem, Graph, Id, Ty};
use crate::ops::{Fun, InverseCheck, Op};
use crate::sig::{self, Signature};
use proc_macro2::Span;
use std::collections::{HashMap, HashSet};
use syn::spanned::Spanned;
use syn::{BinOp, Expr, Lit, Pat, Stmt, UnOp};

const MATRIX_METHODS: &str = "`.transpose()`, `.trace()`, `.dot(&y)`, `.component_mul(&y)`, \
     `.component_div(&y)`, `.norm()`, `.norm_squared()`, `.sum()`, `.max()`, `.min()`, \
     `.map(|t| ..)`, `.try_inverse().unwrap()`, `.determinant()`, `.symmetric_eigenvalues()`";
const SCALAR_METHODS: &str = "`.exp()`, `.ln()`, `.sqrt()`, `.sin()`, `.cos()`, `.tan()`, \
     `.tanh()`, `.recip()`, `.abs()`, `.signum()`, `.powi(n)`, `.powf(p)`, `.max(y)`, `.min(y)`";
const STRAIGHT_LINE: &str = "matdiff differentiates straight-line code: `let` bindings \
                             followed by a final expression";

/// Lowers `sig.func`'s body; returns the node of its value. Parameter `k` becomes
/// `Op::Param(k)`.
pub fn lower_body(cx: &Ctxt, g: &mut Graph, sig: &Signature) -> Option<Id> {
    let mut env = HashMap::new();
    for (k, param) in sig.params.iter().enumerate() {
        let id = g.add_typed(Op::Param(k), &[], param.ty.clone(), param.ident.span());
        env.insert(param.ident.to_string(), Some(id));
    }
    let references = sig
        .params
        .iter()
        .filter(|p| p.by_ref)
        .map(|p| p.ident.to_string())
        .collect();
    let mut lowerer = Lowerer {
        cx,
        g,
        sig,
        env,
        in_closure: false,
        references,
    };
    lowerer.lower_block(&sig.func.block)
}

struct Lowerer<'a, 'g> {
    cx: &'a Ctxt,
    g: &'g mut Graph,
    sig: &'a Signature<'a>,
    /// Visible bindings; `None` marks one whose value had an error.
    env: HashMap<String, Option<Id>>,
    /// Lowering the body of a `.map()` closure, which sees only its own argument.
    in_closure: bool,
    /// Bindings that hold a reference (`x: &SVector<..>`, `let r = &m;`), so a call passes
    /// them on as the user's code would.
    references: HashSet<String>,
}

impl Lowerer<'_, '_> {
    fn lower_block(&mut self, block: &syn::Block) -> Option<Id> {
        let saved = (self.env.clone(), self.references.clone());
        let mut value = None;
        let mut has_tail = false;
        for (i, stmt) in block.stmts.iter().enumerate() {
            let last = i + 1 == block.stmts.len();
            match stmt {
                Stmt::Local(local) => self.lower_let(local),
                Stmt::Expr(expr, None) if last => {
                    has_tail = true;
                    value = self.lower_expr(expr, None);
                }
                Stmt::Expr(expr, _) => self.lower_statement(expr),
                Stmt::Item(item) => self.cx.error_spanned_by(
                    item,
                    "items inside a differentiated function are not supported; define them \
                     outside the function",
                ),
                Stmt::Macro(mac) => self.cx.error_spanned_by(
                    &mac.mac,
                    "macros are not supported in a differentiated function; write the \
                     expression out",
                ),
            }
        }
        (self.env, self.references) = saved;
        // `return y;` at the end is reported already, and does give the value.
        let ends_in_return = matches!(block.stmts.last(), Some(Stmt::Expr(Expr::Return(_), _)));
        if !has_tail && !ends_in_return {
            self.cx.error_at(
                block.brace_token.span.close(),
                format!("expected a final expression giving the function's value; {STRAIGHT_LINE}"),
            );
        }
        value
    }

    /// A statement other than `let` and the tail: always an error, worded for what it is.
    fn lower_statement(&mut self, expr: &Expr) {
        if let Some(message) = unsupported_expr(expr) {
            self.cx.error_spanned_by(expr, message);
            return;
        }
        self.cx.error_spanned_by(
            expr,
            format!("expression statements are not supported; {STRAIGHT_LINE}"),
        );
    }

    fn lower_let(&mut self, local: &syn::Local) {
        let (name, annotation) = match &local.pat {
            Pat::Type(typed) => (&*typed.pat, Some(&*typed.ty)),
            other => (other, None),
        };
        let ident = match name {
            Pat::Ident(p) if p.mutability.is_some() => {
                self.cx.error_spanned_by(
                    p,
                    "`let mut` is not supported: matdiff differentiates values that are never \
                     reassigned; bind each new value with its own `let` (shadowing is fine)",
                );
                return self.poison_pattern(name);
            }
            Pat::Ident(p) if p.by_ref.is_none() && p.subpat.is_none() => &p.ident,
            other => {
                self.cx.error_spanned_by(
                    other,
                    "this pattern is not supported; bind the value to a plain name such as \
                     `let y = ...;`",
                );
                return self.poison_pattern(other);
            }
        };
        let Some(init) = &local.init else {
            self.cx
                .error_spanned_by(local, "a `let` needs a value here: `let y = ...;`");
            return self.poison_pattern(name);
        };
        if let Some((_, diverge)) = &init.diverge {
            self.cx.error_spanned_by(
                diverge,
                format!("`let ... else` is not supported; {STRAIGHT_LINE}"),
            );
        }
        let expected = annotation.and_then(|ty| self.annotated_shape(ty));
        let mut value = self.lower_expr(&init.expr, expected.as_ref());
        if let (Some(id), Some(ty), Some(annotation)) = (value, &expected, annotation) {
            let found = self.g.ty(id);
            if found != ty {
                self.cx.error_spanned_by(
                    annotation,
                    format!(
                        "the annotated type is a {} but the value is a {}",
                        ty.describe(),
                        found.describe()
                    ),
                );
                // Poisoned: uses of the binding would only repeat the error.
                value = None;
            }
        }
        let name = ident.to_string();
        if self.is_reference(&init.expr) {
            self.references.insert(name.clone());
        } else {
            self.references.remove(&name);
        }
        self.env.insert(name, value);
    }

    /// Whether `expr` evaluates to a reference: `&e`, or a binding that holds one.
    fn is_reference(&self, expr: &Expr) -> bool {
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

    /// Marks every name `pat` binds as having had an error, so its uses report nothing more.
    fn poison_pattern(&mut self, pat: &Pat) {
        let pats: Vec<&Pat> = match pat {
            Pat::Ident(p) => {
                self.env.insert(p.ident.to_string(), None);
                p.subpat.iter().map(|(_, sub)| &**sub).collect()
            }
            Pat::Tuple(t) => t.elems.iter().collect(),
            Pat::TupleStruct(t) => t.elems.iter().collect(),
            Pat::Slice(s) => s.elems.iter().collect(),
            Pat::Or(o) => o.cases.iter().collect(),
            Pat::Struct(s) => s.fields.iter().map(|f| &*f.pat).collect(),
            Pat::Reference(r) => vec![&*r.pat],
            Pat::Paren(p) => vec![&*p.pat],
            Pat::Type(t) => vec![&*t.pat],
            _ => Vec::new(),
        };
        for pat in pats {
            self.poison_pattern(pat);
        }
    }

    fn annotated_shape(&self, ty: &syn::Type) -> Option<Ty> {
        let ty = match ty {
            syn::Type::Reference(r) => &*r.elem,
            other => other,
        };
        match sig::parse_type(ty) {
            Ok((_, shape)) => Some(shape),
            Err(message) => {
                self.cx.error_spanned_by(ty, message);
                None
            }
        }
    }

    /// `expected` is the shape the context wants, used only to size `identity()`/`zeros()`
    /// written without dimensions.
    fn lower_expr(&mut self, expr: &Expr, expected: Option<&Ty>) -> Option<Id> {
        match expr {
            Expr::Lit(lit) => self.lower_lit(&lit.lit),
            Expr::Path(path) => self.lower_path(path),
            Expr::Paren(e) => self.lower_expr(&e.expr, expected),
            Expr::Group(e) => self.lower_expr(&e.expr, expected),
            Expr::Reference(r) if r.mutability.is_none() => self.lower_expr(&r.expr, expected),
            Expr::Unary(u) => self.lower_unary(u, expected),
            Expr::Binary(b) => self.lower_binary(b),
            Expr::MethodCall(call) => self.lower_method(call),
            Expr::Index(index) => self.lower_index(index),
            Expr::Call(call) => self.lower_call(call, expected),
            Expr::Block(block) if block.label.is_none() => self.lower_block(&block.block),
            Expr::Cast(cast) => self.lower_cast(cast),
            other => {
                let message = unsupported_expr(other).unwrap_or_else(|| {
                    format!(
                        "this expression is not supported in a differentiated function; \
                         supported are parameters, `let` bindings, float literals, `+ - * /`, \
                         matrix methods {MATRIX_METHODS}, scalar methods {SCALAR_METHODS}, \
                         indexing and `identity()`"
                    )
                });
                self.cx.error_spanned_by(other, message);
                None
            }
        }
    }

    /// `3 as f64`, `N as f64` (a const generic or named integer constant), `x as f64` (a float
    /// already of that type): the casts that give a float of the function's element type.
    fn lower_cast(&mut self, cast: &syn::ExprCast) -> Option<Id> {
        let elem = sig::elem_name(self.g.elem);
        let target_is_elem = matches!(&*cast.ty, syn::Type::Path(p) if p.path.is_ident(elem));
        if !target_is_elem {
            self.cx.error_spanned_by(
                &cast.ty,
                format!("`as` casts are supported only to the element type `{elem}`"),
            );
            return None;
        }
        let span = cast.span();
        match &*cast.expr {
            Expr::Lit(syn::ExprLit {
                lit: Lit::Int(i), ..
            }) => match i.base10_parse::<u32>() {
                Ok(value) => Some(self.g.lit(f64::from(value), span)),
                Err(e) => {
                    self.cx.syn_error(e);
                    None
                }
            },
            Expr::Path(path) if path.path.get_ident().is_some() => {
                let ident = path.path.get_ident()?;
                if self.env.contains_key(&ident.to_string()) {
                    return self.lower_expr(&cast.expr, None);
                }
                let op = Op::IntConst(ident.clone());
                Some(self.g.add_typed(op, &[], Ty::Scalar, span))
            }
            other => {
                self.cx.error_spanned_by(
                    other,
                    format!(
                        "this cast is not supported; `as {elem}` applies to integer literals and \
                         integer constants such as a const generic `N`"
                    ),
                );
                None
            }
        }
    }

    fn lower_lit(&mut self, lit: &Lit) -> Option<Id> {
        let span = lit.span();
        match lit {
            Lit::Float(f) => {
                let suffix = f.suffix();
                let elem = sig::elem_name(self.g.elem);
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
                let value = match self.g.elem {
                    Elem::F32 => f.base10_parse::<f32>().map(f64::from),
                    Elem::F64 => f.base10_parse::<f64>(),
                };
                match value {
                    Ok(value) => Some(self.g.lit(value, span)),
                    Err(e) => {
                        self.cx.syn_error(e);
                        None
                    }
                }
            }
            Lit::Int(i) => {
                self.cx.error_spanned_by(
                    i,
                    format!(
                        "integer literal where a float is expected; write `{}.0`",
                        i.base10_digits()
                    ),
                );
                None
            }
            other => {
                self.cx
                    .error_spanned_by(other, "only float literals such as `2.0` are supported");
                None
            }
        }
    }

    fn lower_path(&mut self, path: &syn::ExprPath) -> Option<Id> {
        if let Some(ident) = path.path.get_ident() {
            return match self.env.get(&ident.to_string()) {
                Some(value) => *value,
                None if is_constant_name(ident) => {
                    let op = Op::FloatConst(ident.clone());
                    Some(self.g.add_typed(op, &[], Ty::Scalar, ident.span()))
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
            return Some(self.g.lit(value, path.span()));
        }
        self.cx.error_spanned_by(
            path,
            format!(
                "unsupported path `{}`; use a parameter, a `let` binding, or a float constant \
                 such as `std::f64::consts::PI`",
                quote::ToTokens::to_token_stream(path)
                    .to_string()
                    .replace(' ', "")
            ),
        );
        None
    }

    fn lower_unary(&mut self, unary: &syn::ExprUnary, expected: Option<&Ty>) -> Option<Id> {
        match unary.op {
            UnOp::Deref(_) => self.lower_expr(&unary.expr, expected),
            UnOp::Neg(_) => {
                let x = self.lower_expr(&unary.expr, expected)?;
                Some(self.g.add(Op::Neg, &[x], unary.span()))
            }
            _ => {
                let op = quote::ToTokens::to_token_stream(&unary.op);
                self.cx.error_spanned_by(
                    unary,
                    format!(
                        "the operator `{op}` is not supported; supported are `+`, `-`, `*`, `/` \
                         and unary `-`"
                    ),
                );
                None
            }
        }
    }

    fn lower_binary(&mut self, binary: &syn::ExprBinary) -> Option<Id> {
        let span = binary.span();
        let op = match binary.op {
            BinOp::Add(_) => Op::Add,
            BinOp::Sub(_) => Op::Sub,
            BinOp::Mul(_) => Op::MatMul,
            BinOp::Div(_) => Op::Fun(Fun::Recip),
            BinOp::AddAssign(_)
            | BinOp::SubAssign(_)
            | BinOp::MulAssign(_)
            | BinOp::DivAssign(_) => {
                self.cx.error_spanned_by(binary, MUTATION);
                return None;
            }
            _ => {
                let op = quote::ToTokens::to_token_stream(&binary.op);
                self.cx.error_spanned_by(
                    binary.op,
                    format!(
                        "the operator `{op}` is not supported; supported are `+`, `-`, `*`, `/` \
                         and unary `-`"
                    ),
                );
                return None;
            }
        };
        let (left, right) = self.lower_operands(&binary.left, &binary.right, &op);
        let (left, right) = (left?, right?);
        let (lt, rt) = (self.g.ty(left).clone(), self.g.ty(right).clone());
        let result = match (op, lt.is_scalar(), rt.is_scalar()) {
            (Op::MatMul, true, true) => self.g.try_add(Op::Mul, &[left, right], span),
            (Op::MatMul, true, false) => self.g.try_add(Op::Scale, &[left, right], span),
            (Op::MatMul, false, true) => self.g.try_add(Op::Scale, &[right, left], span),
            (Op::Fun(_), _, true) => {
                let inverse = self.g.add(Op::Fun(Fun::Recip), &[right], span);
                let op = if lt.is_scalar() { Op::Mul } else { Op::Scale };
                self.g.try_add(op, &[inverse, left], span)
            }
            (Op::Fun(_), _, false) => Err(format!(
                "division by a {} is not supported; divide by a scalar, or multiply by \
                 `m.try_inverse().unwrap()`",
                rt.describe()
            )),
            (op, _, _) => self.g.try_add(op, &[left, right], span),
        };
        result
            .map_err(|message| self.cx.error_spanned_by(binary, message))
            .ok()
    }

    /// Lowers both sides; a side that is a sizeless `identity()`/`zeros()` is lowered second,
    /// sized by the other.
    fn lower_operands(&mut self, left: &Expr, right: &Expr, op: &Op) -> (Option<Id>, Option<Id>) {
        if sizeless_constructor(left) && !sizeless_constructor(right) {
            let r = self.lower_expr(right, None);
            let hint = r.map(|r| operand_hint(self.g.ty(r), op, false));
            let l = self.lower_expr(left, hint.flatten().as_ref());
            return (l, r);
        }
        let l = self.lower_expr(left, None);
        let hint = l.map(|l| operand_hint(self.g.ty(l), op, true));
        let r = self.lower_expr(right, hint.flatten().as_ref());
        (l, r)
    }

    fn lower_method(&mut self, call: &syn::ExprMethodCall) -> Option<Id> {
        let name = call.method.to_string();
        let span = call.span();
        if let Some(turbofish) = &call.turbofish {
            self.cx.error_spanned_by(
                turbofish,
                format!("a turbofish `::<...>` on `.{name}()` is not supported; remove it"),
            );
            return None;
        }
        if let Some(inverse) = try_inverse_receiver(call) {
            return self.lower_inverse(call, inverse);
        }
        let receiver = self.lower_expr(&call.receiver, None);
        let args: Vec<Option<Id>> = match name.as_str() {
            // Their arguments are read as syntax (an integer, a closure), not lowered.
            "powi" | "map" => Vec::new(),
            _ => call.args.iter().map(|a| self.lower_expr(a, None)).collect(),
        };
        let receiver = receiver?;
        let args: Vec<Id> = args.into_iter().collect::<Option<_>>()?;
        let receiver_ty = self.g.ty(receiver).clone();
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
        self.g
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
        self.g
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
        self.g
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
        let mut body = Graph::new(self.g.elem);
        let t = body.add_typed(Op::Param(0), &[], Ty::Scalar, argument.span());
        let mut inner = Lowerer {
            cx: self.cx,
            g: &mut body,
            sig: self.sig,
            env: HashMap::from([(argument.to_string(), Some(t))]),
            in_closure: true,
            references: HashSet::new(),
        };
        let output = inner.lower_expr(&closure.body, None)?;
        if !body.ty(output).is_scalar() {
            self.cx
                .error_spanned_by(&closure.body, "a `.map()` closure must return a scalar");
            return None;
        }
        Some(self.g.add_scalar_fn(body, output))
    }

    /// The scalar function `t -> fun(t)`.
    fn scalar_fn_of(&mut self, fun: Fun) -> usize {
        let span = Span::call_site();
        let mut body = Graph::new(self.g.elem);
        let t = body.add_typed(Op::Param(0), &[], Ty::Scalar, span);
        let output = body.add(Op::Fun(fun), &[t], span);
        self.g.add_scalar_fn(body, output)
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
        let shapes = (self.g.ty(a).clone(), self.g.ty(args[0]).clone());
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
        let inverse = self.g.try_add(Op::Map(recip), &[args[0]], span).ok()?;
        self.g.try_add(Op::ComponentMul, &[a, inverse], span).ok()
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
            [arg] => integer_literal(arg),
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

    fn lower_index(&mut self, index: &syn::ExprIndex) -> Option<Id> {
        let base = self.lower_expr(&index.expr, None)?;
        let Some(position) = literal_index(&index.index) else {
            self.cx.error_spanned_by(
                &index.index,
                "only literal indices are supported, such as `v[0]` or `m[(1, 2)]`",
            );
            return None;
        };
        let ty = self.g.ty(base).clone();
        let (i, j) = match (position, &ty) {
            (Position::Pair(i, j), _) => (i, j),
            // The shape rule reports that a scalar cannot be indexed.
            (Position::Linear(i), Ty::Scalar) => (i, 0),
            (Position::Linear(i), Ty::Mat(_, Dim::Lit(1))) => (i, 0),
            (Position::Linear(i), Ty::Mat(Dim::Lit(1), _)) => (0, i),
            (Position::Linear(i), Ty::Mat(Dim::Lit(rows), _)) if *rows > 0 => (i % rows, i / rows),
            (Position::Linear(_), _) => {
                self.cx.error_spanned_by(
                    &index.index,
                    format!(
                        "linear indexing of a {} is not supported; index it as `m[(i, j)]`",
                        ty.describe()
                    ),
                );
                return None;
            }
        };
        self.g
            .try_add(Op::Index(i, j), &[base], index.span())
            .map_err(|message| self.cx.error_spanned_by(index, message))
            .ok()
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
            return self.lower_method(&method_call);
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
            args.push(self.lower_expr(arg, None));
        }
        let args: Vec<Id> = args.into_iter().collect::<Option<_>>()?;
        if args.is_empty() {
            self.cx.error_spanned_by(
                call,
                "a call to another differentiated function needs at least one argument",
            );
            return None;
        }
        let scalar_args = args.iter().map(|&a| self.g.ty(a).is_scalar()).collect();
        let callee = Callee {
            path: path.path.clone(),
            by_ref,
            scalar_args,
        };
        let c = self.g.add_callee(callee);
        self.g
            .try_add(Op::Call(c), &args, call.span())
            .map_err(|message| self.cx.error_spanned_by(call, message))
            .ok()
    }

    /// `SMatrix::<f64, 3, 3>::identity()`, `Matrix3::identity()`, `SMatrix::zeros()`, ...
    fn lower_call(&mut self, call: &syn::ExprCall, expected: Option<&Ty>) -> Option<Id> {
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
            "identity" => self.g.add_typed(Op::Identity, &[], ty, span),
            _ => {
                let zero = self.g.lit(0.0, span);
                self.g.add_typed(Op::Fill, &[zero], ty, span)
            }
        })
    }
}

const MUTATION: &str = "mutation is not supported in a differentiated function; bind the new \
                        value with its own `let` instead (shadowing is fine)";

/// The message for a construct matdiff never differentiates, worded for what it is.
fn unsupported_expr(expr: &Expr) -> Option<String> {
    let message = match expr {
        Expr::If(_) | Expr::Match(_) => {
            format!("branches (`if`, `match`) are not supported; {STRAIGHT_LINE}")
        }
        Expr::ForLoop(_) | Expr::While(_) | Expr::Loop(_) => format!(
            "loops are not supported; {STRAIGHT_LINE}; write sums with matrix operations such \
             as `*`, `.dot()` or `.sum()`"
        ),
        Expr::Return(_) => "`return` is not supported; make the returned value the final \
                            expression of the body"
            .to_owned(),
        Expr::Try(_) => {
            "`?` is not supported; a differentiated function returns a plain scalar".to_owned()
        }
        Expr::Assign(_) => MUTATION.to_owned(),
        Expr::Binary(b)
            if matches!(
                b.op,
                BinOp::AddAssign(_)
                    | BinOp::SubAssign(_)
                    | BinOp::MulAssign(_)
                    | BinOp::DivAssign(_)
            ) =>
        {
            MUTATION.to_owned()
        }
        Expr::Macro(_) => {
            "macros are not supported in a differentiated function; write the expression out"
                .to_owned()
        }
        Expr::Closure(_) => "closures are supported only as the argument of `.map()`, as in \
                             `m.map(|t| t.tanh())`"
            .to_owned(),
        Expr::Reference(_) => {
            "`&mut` is not supported: a differentiated function mutates nothing; borrow with `&`"
                .to_owned()
        }
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

enum Position {
    Linear(usize),
    Pair(usize, usize),
}

fn literal_index(expr: &Expr) -> Option<Position> {
    let usize_lit = |e: &Expr| match e {
        Expr::Lit(syn::ExprLit {
            lit: Lit::Int(i), ..
        }) => i.base10_parse::<usize>().ok(),
        _ => None,
    };
    match expr {
        Expr::Tuple(t) if t.elems.len() == 2 => Some(Position::Pair(
            usize_lit(&t.elems[0])?,
            usize_lit(&t.elems[1])?,
        )),
        Expr::Paren(p) => literal_index(&p.expr),
        other => usize_lit(other).map(Position::Linear),
    }
}

fn integer_literal(expr: &Expr) -> Option<i32> {
    match expr {
        Expr::Lit(syn::ExprLit {
            lit: Lit::Int(i), ..
        }) => i.base10_parse::<i32>().ok(),
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

/// `std::f64::consts::PI`, `f64::consts::E`, `core::f32::consts::TAU`, ...
fn float_constant(path: &syn::Path) -> Option<f64> {
    use std::f64::consts;
    let names: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
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
