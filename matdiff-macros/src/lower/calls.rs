//! Calls: of another `#[differentiate]` function (through the functions its attribute
//! generated), of `f64::` functions (as the methods they are), of closures bound with `let`,
//! and constructors (`Matrix3::identity()`, `SMatrix::<f64, 2, 3>::zeros()`).

use super::syntax::{constructor, float_function_call};
use super::{Lowerer, Val};
use crate::build::Build;
use crate::ir::{Callee, Dim, Id, Ty};
use crate::ops::Op;
use crate::sig;
use syn::spanned::Spanned;
use syn::Expr;

impl Lowerer<'_> {
    /// `f(&x, y)` for another `#[differentiate]` function `f`: the chain rule goes through
    /// the `__matdiff_f_vjp` / `__matdiff_f_tangent` functions its attribute generated.
    ///
    /// The callee's value is a scalar unless the call's expected type (`let r: SVector<f64, 5>
    /// = residual(..)`) says it is a matrix: the macro sees one function at a time and cannot
    /// read the callee's return type.
    fn lower_differentiated_call(
        &mut self,
        call: &syn::ExprCall,
        expected: Option<&Ty>,
    ) -> Option<Id> {
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
        let output = match expected {
            Some(ty @ Ty::Mat(..)) => ty.clone(),
            _ => Ty::Scalar,
        };
        let callee = Callee {
            path: path.path.clone(),
            by_ref,
            scalar_args,
            int_args,
            output: output.clone(),
        };
        let c = self.g().add_callee(callee);
        Some(self.g().add_typed(Op::Call(c), &args, output, call.span()))
    }

    /// `SMatrix::<f64, 3, 3>::identity()`, `Matrix3::identity()`, `SMatrix::zeros()`, ...
    pub(super) fn lower_call(
        &mut self,
        call: &syn::ExprCall,
        expected: Option<&Ty>,
    ) -> Option<Val> {
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
            return self.lower_differentiated_call(call, expected);
        };
        let arity = match kind {
            "identity" | "zeros" => 0,
            "from_element" | "repeat" => 1,
            _ => call.args.len(),
        };
        if call.args.len() != arity {
            let count = match arity {
                0 => "no arguments",
                _ => "one argument",
            };
            self.cx
                .error_spanned_by(call, format!("`{kind}()` takes {count}"));
            return None;
        }
        let entries: Vec<Option<Id>> = call
            .args
            .iter()
            .map(|arg| {
                let id = self.lower_expr(arg, None)?;
                if self.graph().ty(id).is_scalar() {
                    return Some(id);
                }
                self.cx
                    .error_spanned_by(arg, format!("`{kind}()` takes scalar entries"));
                None
            })
            .collect();
        let entries: Vec<Id> = entries.into_iter().collect::<Option<_>>()?;
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
            "zeros" => self.g().zeros(&ty, span),
            "from_element" | "repeat" => self.g().add_typed(Op::Fill, &[entries[0]], ty, span),
            _ => self.assemble(call, &entries, ty)?,
        })
    }

    /// `Vector3::new(a, b, c)`, `Matrix2::new(a, b, c, d)`: nalgebra takes the entries row by
    /// row; the node holds them column by column.
    fn assemble(&mut self, call: &syn::ExprCall, entries: &[Id], ty: Ty) -> Option<Id> {
        let Ty::Mat(Dim::Lit(rows), Dim::Lit(cols)) = ty else {
            self.cx.error_spanned_by(
                call,
                "`new()` needs the sizes written as literals, as in `Vector3::new(..)` or \
                 `SMatrix::<f64, 2, 3>::new(..)`",
            );
            return None;
        };
        if entries.len() != rows * cols {
            self.cx.error_spanned_by(
                call,
                format!(
                    "a {} has {} entries but `new()` is given {}",
                    ty.describe(),
                    rows * cols,
                    entries.len()
                ),
            );
            return None;
        }
        let column_major: Vec<Id> = (0..rows * cols)
            .map(|k| entries[(k % rows) * cols + k / rows])
            .collect();
        Some(
            self.g()
                .add_typed(Op::Assemble, &column_major, ty, call.span()),
        )
    }
}
