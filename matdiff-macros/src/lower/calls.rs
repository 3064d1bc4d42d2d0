//! Calls: of another `#[differentiate]` function (through the functions its attribute
//! generated), of `f64::` functions (as the methods they are), of closures bound with `let`,
//! and constructors (`Matrix3::identity()`, `SMatrix::<f64, 2, 3>::zeros()`,
//! `Vector3::new(..)`, `Matrix3::from_fn(|i, j| ..)`, `Matrix3::from_columns(&[..])`, ..).

use super::syntax::{constructor, float_function_call};
use super::{Lowerer, Val};
use crate::build::Build;
use crate::ir::{Callee, Dim, Id, Ty};
use crate::ops::Op;
use crate::sig;
use std::rc::Rc;
use syn::spanned::Spanned;
use syn::Expr;

/// The supported constructors, as messages list them.
const CONSTRUCTORS: &str = "`identity()`, `zeros()`, `new(..)`, `from_element(s)`, `repeat(s)`, \
     `from([..])`, `from_column_slice(&[..])`, `from_row_slice(&[..])`, `from_fn(|i, j| ..)`, \
     `from_diagonal(&v)`, `from_diagonal_element(s)`, `from_partial_diagonal(&[..])`, \
     `from_columns(&[..])`, `from_rows(&[..])` and the unit vectors `x()`, `y()`, `z()`, `w()`, \
     `a()`, `b()`";

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
            if let Expr::Path(path) = &*call.func {
                if let [.., ty, function] = path.path.segments.iter().collect::<Vec<_>>()[..] {
                    // Not a call of a differentiated function, whose result would be a scalar.
                    if sig::is_matrix_name(&ty.ident) {
                        self.cx.error_spanned_by(
                            path,
                            format!(
                                "`{}::{}()` is not a constructor matdiff supports; supported are \
                                 {CONSTRUCTORS}",
                                ty.ident, function.ident
                            ),
                        );
                        return None;
                    }
                }
            }
            return self.lower_differentiated_call(call, expected);
        };
        if !matches!(
            kind,
            "identity"
                | "zeros"
                | "new"
                | "from_element"
                | "repeat"
                | "x"
                | "y"
                | "z"
                | "w"
                | "a"
                | "b"
        ) {
            return self.lower_built_matrix(call, kind, type_segment, expected);
        }
        let arity = match kind {
            "identity" | "zeros" | "x" | "y" | "z" | "w" | "a" | "b" => 0,
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
        let named = self.named_shape(type_segment)?;
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
            "x" | "y" | "z" | "w" | "a" | "b" => self.unit_vector(call, kind, ty)?,
            _ => self.assemble(call, kind, &entries, ty, true)?,
        })
    }

    /// The shape a constructor's type names (`Matrix3`, `SMatrix::<f64, 2, 3>`); the inner
    /// `None` when it names none (`SMatrix::zeros()`), the outer on an error.
    fn named_shape(&self, type_segment: &syn::PathSegment) -> Option<Option<Ty>> {
        match sig::shape_of_segment(type_segment) {
            Ok((_, shape)) => Some(shape),
            Err(message) => {
                self.cx.error_spanned_by(type_segment, message);
                None
            }
        }
    }

    /// The sizes of the matrix `ty` a constructor fills entry by entry: they must be literals,
    /// since the macro writes one entry per position.
    fn literal_shape(&self, call: &syn::ExprCall, kind: &str, ty: &Ty) -> Option<(usize, usize)> {
        if let Ty::Mat(Dim::Lit(rows), Dim::Lit(cols)) = ty {
            return Some((*rows, *cols));
        }
        let example = if kind == "new" { "Vector3" } else { "Matrix3" };
        self.cx.error_spanned_by(
            call,
            format!(
                "`{kind}()` needs the sizes written as literals, as in `{example}::{kind}(..)` \
                 or `SMatrix::<f64, 2, 3>::{kind}(..)`; with a const-generic size, fill a \
                 `let mut` matrix of `zeros()` in a `for` loop"
            ),
        );
        None
    }

    /// The matrix `ty` of `entries`, given row by row (`new`, `from_row_slice`) or column by
    /// column; the node holds them column by column.
    fn assemble(
        &mut self,
        call: &syn::ExprCall,
        kind: &str,
        entries: &[Id],
        ty: Ty,
        by_rows: bool,
    ) -> Option<Id> {
        let (rows, cols) = self.literal_shape(call, kind, &ty)?;
        if entries.len() != rows * cols {
            self.cx.error_spanned_by(
                call,
                format!(
                    "a {} has {} entries but `{kind}()` is given {}",
                    ty.describe(),
                    rows * cols,
                    entries.len()
                ),
            );
            return None;
        }
        let column_major: Vec<Id> = if by_rows {
            (0..rows * cols)
                .map(|k| entries[(k % rows) * cols + k / rows])
                .collect()
        } else {
            entries.to_vec()
        };
        Some(
            self.g()
                .add_typed(Op::Assemble, &column_major, ty, call.span()),
        )
    }

    /// The constructors that take their entries in another form than scalar arguments: an
    /// array (`from`, `from_column_slice`, `from_row_slice`, `from_partial_diagonal`), a
    /// closure of the position (`from_fn`), a vector (`from_diagonal`), vectors
    /// (`from_columns`, `from_rows`), or the scalar of a diagonal (`from_diagonal_element`).
    ///
    /// All but the last become one `Assemble` of the entries, column by column, and a matrix
    /// argument's entries are `Index` reads of it: ops that have their rules already, and the
    /// generated code is the `from_column_slice(&[..])` of the entries a hand-written version
    /// computes. The sizes must then be literals (a const-generic size has no entry list).
    fn lower_built_matrix(
        &mut self,
        call: &syn::ExprCall,
        kind: &str,
        type_segment: &syn::PathSegment,
        expected: Option<&Ty>,
    ) -> Option<Id> {
        let span = call.span();
        if call.args.len() != 1 {
            self.cx.error_spanned_by(
                call,
                format!(
                    "`{kind}()` takes one argument; the sizes come from the type, as in \
                     `Matrix3::{kind}(..)` or `SMatrix::<f64, 2, 3>::{kind}(..)`"
                ),
            );
            return None;
        }
        let named = self.named_shape(type_segment)?;
        let arg = &call.args[0];
        match kind {
            // s I, whatever the sizes (not square: the identity's pattern, as nalgebra's).
            "from_diagonal_element" => {
                let s = self.scalar_entry(kind, arg)?;
                let ty = self.constructed_type(call, kind, named, expected)?;
                let eye = self.g().add_typed(Op::Identity, &[], ty, span);
                Some(self.g().add(Op::Scale, &[s, eye], span))
            }
            // The closure is lowered once per entry with `i`, `j` integers known here, so
            // `x[i]`, `i == j`, `(i + j) as f64` fold as in an unrolled loop.
            "from_fn" => {
                let ty = self.constructed_type(call, kind, named, expected)?;
                let (rows, cols) = self.literal_shape(call, kind, &ty)?;
                let closure = self.position_closure(arg)?;
                let int = |n: usize| Val::Int(i64::try_from(n).unwrap_or(i64::MAX));
                let mut entries = Vec::with_capacity(rows * cols);
                for j in 0..cols {
                    for i in 0..rows {
                        let value = self.call_closure(&closure, vec![int(i), int(j)], span)?;
                        let id = self.float_node(&value, &closure.body)?;
                        if !self.graph().ty(id).is_scalar() {
                            self.cx.error_spanned_by(
                                &closure.body,
                                format!("`{kind}()` takes scalar entries"),
                            );
                            return None;
                        }
                        entries.push(id);
                    }
                }
                self.assemble(call, kind, &entries, ty, false)
            }
            "from_column_slice" | "from_row_slice" => {
                let items = self.array_items(kind, arg)?;
                let entries = self.scalar_entries(kind, &items)?;
                let ty = self.constructed_type(call, kind, named, expected)?;
                self.assemble(call, kind, &entries, ty, kind == "from_row_slice")
            }
            "from_partial_diagonal" => {
                let items = self.array_items(kind, arg)?;
                let diagonal = self.scalar_entries(kind, &items)?;
                let ty = self.constructed_type(call, kind, named, expected)?;
                let (rows, cols) = self.literal_shape(call, kind, &ty)?;
                if diagonal.len() > rows.min(cols) {
                    self.cx.error_spanned_by(
                        call,
                        format!(
                            "a {} has {} diagonal entries but `{kind}()` is given {}",
                            ty.describe(),
                            rows.min(cols),
                            diagonal.len()
                        ),
                    );
                    return None;
                }
                let zero = self.g().lit(0.0, span);
                let entries: Vec<Id> = (0..rows * cols)
                    .map(|k| {
                        let (i, j) = (k % rows, k / rows);
                        if i == j && i < diagonal.len() {
                            diagonal[i]
                        } else {
                            zero
                        }
                    })
                    .collect();
                self.assemble(call, kind, &entries, ty, false)
            }
            "from" => self.lower_from_array(call, type_segment, named, arg),
            "from_diagonal" => {
                let v = self.lower_expr(arg, None)?;
                let n = match self.graph().ty(v) {
                    Ty::Mat(n, Dim::Lit(1)) => n.clone(),
                    other => {
                        let found = other.describe();
                        self.wrong_parts(arg, kind, "a column vector", &found);
                        return None;
                    }
                };
                let ty = self.fits(call, kind, named, Ty::Mat(n.clone(), n))?;
                let Ty::Mat(Dim::Lit(n), _) = ty else {
                    // A const-generic size: nalgebra's `from_diagonal`, as an op.
                    return self
                        .g()
                        .try_add(Op::FromDiagonal, &[v], span)
                        .map_err(|message| self.cx.error_spanned_by(call, message))
                        .ok();
                };
                let zero = self.g().lit(0.0, span);
                let entries: Vec<Id> = (0..n * n)
                    .map(|k| {
                        let (i, j) = (k % n, k / n);
                        if i == j {
                            self.g().add(Op::Index(i, 0), &[v], span)
                        } else {
                            zero
                        }
                    })
                    .collect();
                self.assemble(call, kind, &entries, ty, false)
            }
            _ => self.lower_from_vectors(call, kind, named, arg),
        }
    }

    /// `Matrix3::from_columns(&[c0, c1, c2])`, `Matrix3::from_rows(&[r0, r1, r2])`.
    fn lower_from_vectors(
        &mut self,
        call: &syn::ExprCall,
        kind: &str,
        named: Option<Ty>,
        arg: &Expr,
    ) -> Option<Id> {
        let span = call.span();
        let columns = kind == "from_columns";
        let items = self.array_items(kind, arg)?;
        let parts: Vec<Option<Id>> = items.iter().map(|e| self.lower_expr(e, None)).collect();
        let parts: Vec<Id> = parts.into_iter().collect::<Option<_>>()?;
        // Each part's length: its rows for columns, its columns for rows.
        let mut length: Option<Dim> = None;
        for (part, item) in parts.iter().zip(&items) {
            let ty = self.graph().ty(*part).clone();
            let this = match (&ty, columns) {
                (Ty::Mat(r, Dim::Lit(1)), true) => Some(r.clone()),
                (Ty::Mat(Dim::Lit(1), c), false) => Some(c.clone()),
                _ => None,
            };
            match (this, &length) {
                (Some(this), None) => length = Some(this),
                (Some(this), Some(first)) if this == *first => {}
                _ => {
                    let what = if columns {
                        "column vectors of one length (`r.transpose()` of a row vector `r`)"
                    } else {
                        "row vectors of one length (`v.transpose()` of a column vector `v`)"
                    };
                    self.wrong_parts(item, kind, what, &ty.describe());
                    return None;
                }
            }
        }
        let count = Dim::Lit(parts.len());
        let length = length.unwrap_or(Dim::Lit(0));
        let built = if columns {
            Ty::Mat(length, count)
        } else {
            Ty::Mat(count, length)
        };
        let ty = self.fits(call, kind, named, built)?;
        let Ty::Mat(Dim::Lit(rows), Dim::Lit(cols)) = ty else {
            return self.stack_blocks(call, &parts, ty, columns);
        };
        let entries: Vec<Id> = (0..rows * cols)
            .map(|k| {
                let (i, j) = (k % rows, k / rows);
                if columns {
                    self.g().add(Op::Index(i, 0), &[parts[j]], span)
                } else {
                    self.g().add(Op::Index(0, j), &[parts[i]], span)
                }
            })
            .collect();
        self.assemble(call, kind, &entries, ty, false)
    }

    /// `Vector3::x()`, `Vector4::w()`, ..: the column vector with a 1 at the letter's entry
    /// (`x`, `y`, `z`, `w`, `a`, `b`, as nalgebra names them) and zeros elsewhere.
    fn unit_vector(&mut self, call: &syn::ExprCall, kind: &str, ty: Ty) -> Option<Id> {
        let index = "xyzwab".find(kind).unwrap_or(0);
        let (rows, cols) = self.literal_shape(call, kind, &ty)?;
        if cols != 1 || rows <= index {
            self.cx.error_spanned_by(
                call,
                format!(
                    "`{kind}()` is the unit vector of a column vector of at least {} entries, \
                     not of a {}",
                    index + 1,
                    ty.describe()
                ),
            );
            return None;
        }
        let span = call.span();
        let (zero, one) = (self.g().lit(0.0, span), self.g().lit(1.0, span));
        let entries: Vec<Id> = (0..rows)
            .map(|i| if i == index { one } else { zero })
            .collect();
        self.assemble(call, kind, &entries, ty, false)
    }

    /// `from_columns`/`from_rows` of vectors whose length is a const generic: each copied into
    /// its column (row) of a zero matrix, with the view updates that have their rules.
    fn stack_blocks(
        &mut self,
        call: &syn::ExprCall,
        parts: &[Id],
        ty: Ty,
        columns: bool,
    ) -> Option<Id> {
        let span = call.span();
        let zero = self.int_node(&Val::Int(0), span)?;
        let mut stacked = self.g().zeros(&ty, span);
        for (k, &part) in (0..).zip(parts) {
            let k = self.int_node(&Val::Int(k), span)?;
            let (i, j) = if columns { (zero, k) } else { (k, zero) };
            stacked = self
                .g()
                .try_add(Op::SetBlock, &[stacked, part, i, j], span)
                .map_err(|message| self.cx.error_spanned_by(call, message))
                .ok()?;
        }
        Some(stacked)
    }

    /// `Vector3::from([a, b, c])` (a row vector's type takes the same array),
    /// `Matrix2::from([[a, b], [c, d]])`, an array of columns, and `Matrix2::from(view)`.
    fn lower_from_array(
        &mut self,
        call: &syn::ExprCall,
        type_segment: &syn::PathSegment,
        named: Option<Ty>,
        arg: &Expr,
    ) -> Option<Id> {
        let kind = "from";
        if array_literal(arg).is_none() {
            // `Matrix2::from(m.fixed_view::<2, 2>(0, 0))`: a view made a matrix, a copy.
            let value = self.value(arg, None)?;
            if let Val::Node(..) = value {
                let id = self.float_node(&value, arg)?;
                if let ty @ Ty::Mat(..) = self.graph().ty(id).clone() {
                    self.fits(call, kind, named, ty)?;
                    return Some(id);
                }
            }
        }
        let items = self.array_items(kind, arg)?;
        let nested: Vec<Vec<&Expr>> = items.iter().filter_map(|e| array_literal(e)).collect();
        if !items.is_empty() && nested.len() == items.len() {
            let rows = nested[0].len();
            if nested.iter().any(|column| column.len() != rows) {
                self.cx.error_spanned_by(
                    arg,
                    "`from()` takes arrays of one length, the columns of the matrix",
                );
                return None;
            }
            let flat: Vec<&Expr> = nested.into_iter().flatten().collect();
            let entries = self.scalar_entries(kind, &flat)?;
            let ty = self.fits(call, kind, named, Ty::mat(rows, items.len()))?;
            return self.assemble(call, kind, &entries, ty, false);
        }
        let entries = self.scalar_entries(kind, &items)?;
        let n = entries.len();
        let row = type_segment.ident.to_string().starts_with("Row");
        let built = if row { Ty::mat(1, n) } else { Ty::mat(n, 1) };
        let ty = self.fits(call, kind, named, built)?;
        self.assemble(call, kind, &entries, ty, false)
    }

    /// The type a constructor builds from its parts, `built`, checked against the one its
    /// type names, if any.
    fn fits(&self, call: &syn::ExprCall, kind: &str, named: Option<Ty>, built: Ty) -> Option<Ty> {
        match named {
            Some(named) if named != built => {
                self.cx.error_spanned_by(
                    call,
                    format!(
                        "`{kind}()` is given the parts of a {} but its type is a {}",
                        built.describe(),
                        named.describe()
                    ),
                );
                None
            }
            _ => Some(built),
        }
    }

    /// The type of a constructor whose argument does not say it: named by its type or
    /// wanted by the context.
    fn constructed_type(
        &self,
        call: &syn::ExprCall,
        kind: &str,
        named: Option<Ty>,
        expected: Option<&Ty>,
    ) -> Option<Ty> {
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
        Some(ty)
    }

    fn wrong_parts(&self, at: &Expr, kind: &str, what: &str, found: &str) {
        self.cx
            .error_spanned_by(at, format!("`{kind}()` takes {what}; found a {found}"));
    }

    /// The items of the array literal a constructor takes (`&[a, b]` or `[a, b]`).
    fn array_items<'e>(&self, kind: &str, arg: &'e Expr) -> Option<Vec<&'e Expr>> {
        if let Some(items) = array_literal(arg) {
            return Some(items);
        }
        let example = match kind {
            "from" => "Vector3::from([a, b, c])",
            "from_column_slice" => "Matrix2::from_column_slice(&[a, b, c, d])",
            "from_row_slice" => "Matrix2::from_row_slice(&[a, b, c, d])",
            "from_partial_diagonal" => "Matrix3::from_partial_diagonal(&[a, b])",
            "from_columns" => "Matrix3::from_columns(&[c0, c1, c2])",
            _ => "Matrix3::from_rows(&[r0, r1, r2])",
        };
        self.cx.error_spanned_by(
            arg,
            format!(
                "`{kind}()` is supported with the array written in the call, as in `{example}`"
            ),
        );
        None
    }

    fn scalar_entries(&mut self, kind: &str, items: &[&Expr]) -> Option<Vec<Id>> {
        let entries: Vec<Option<Id>> = items
            .iter()
            .map(|item| self.scalar_entry(kind, item))
            .collect();
        entries.into_iter().collect()
    }

    fn scalar_entry(&mut self, kind: &str, arg: &Expr) -> Option<Id> {
        let id = self.lower_expr(arg, None)?;
        if self.graph().ty(id).is_scalar() {
            return Some(id);
        }
        self.cx
            .error_spanned_by(arg, format!("`{kind}()` takes scalar entries"));
        None
    }

    /// `from_fn`'s closure of the position, `|i, j| ..` in the call or bound with `let`.
    fn position_closure(&self, arg: &Expr) -> Option<Rc<syn::ExprClosure>> {
        let closure = match arg {
            Expr::Closure(closure) => Some(Rc::new(closure.clone())),
            Expr::Path(path) => path.path.get_ident().and_then(|ident| {
                match self.lookup(&ident.to_string()).and_then(|b| b.val.clone()) {
                    Some(Val::Closure(closure)) => Some(closure),
                    _ => None,
                }
            }),
            _ => None,
        };
        match closure {
            Some(closure) if closure.inputs.len() == 2 => Some(closure),
            _ => {
                self.cx.error_spanned_by(
                    arg,
                    "`from_fn()` takes a closure of an entry's row and column, as in \
                     `Matrix3::from_fn(|i, j| ..)`",
                );
                None
            }
        }
    }
}

/// The items of `[a, b]` or `&[a, b]`.
fn array_literal(expr: &Expr) -> Option<Vec<&Expr>> {
    match expr {
        Expr::Array(array) => Some(array.elems.iter().collect()),
        Expr::Reference(r) if r.mutability.is_none() => array_literal(&r.expr),
        Expr::Paren(e) => array_literal(&e.expr),
        Expr::Group(e) => array_literal(&e.expr),
        _ => None,
    }
}
