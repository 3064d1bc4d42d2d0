//! Methods: one table of every method matdiff lowers, per receiver, which drives both the
//! dispatch and the messages that list the supported methods; then the methods of scalars,
//! matrices, integers and constant arrays (an iterator's are in `control.rs`).
//!
//! Adding a method is adding a line to [`METHODS`]: an op it builds, or a handler named in
//! [`Lowering`] (the compiler then asks for its case in the handler's `match`).

use super::syntax::{integer_literal, is_update_method, string_args, try_inverse_receiver};
use super::{Binding, Factor, Frame, Iter, Lowerer, Scope, Val};
use crate::build::Build;
use crate::ir::{Dim, Graph, Id, SymInt, Ty};
use crate::ops::{Fun, IntOp, InverseCheck, Op, Solver, Triangle};
use proc_macro2::Span;
use std::collections::HashSet;
use std::rc::Rc;
use syn::spanned::Spanned;
use syn::{Expr, Pat};
use IteratorMethod as It;
use Lowering as L;
use MatrixMethod as M;
use Receiver as R;
use ScalarMethod as S;
use ShapeMethod as Sh;

/// What a method is called on.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Receiver {
    Scalar,
    /// A matrix or vector.
    Matrix,
    /// An integer known at compile time (a literal, a size, a loop index).
    Integer,
    /// A lazy iterator: a range, `m.iter()`, and their adapters.
    Iterator,
    /// A float array constant in scope (`DATA`); its other methods are a scalar constant's.
    ConstantArray,
}

/// What a method lowers to, per receiver: the op it builds, or the handler that lowers it.
/// Each receiver's handler matches its enum exhaustively, so a new handler is a new variant
/// the compiler asks a case for.
#[derive(Debug)]
pub(super) enum Lowering {
    Scalar(ScalarMethod),
    Matrix(MatrixMethod),
    /// A matrix method read from the matrix's shape.
    Shape(ShapeMethod),
    Integer(IntegerMethod),
    Iterator(IteratorMethod),
    ConstantArray(ArrayMethod),
}

#[derive(Debug)]
pub(super) enum ScalarMethod {
    /// This op of the receiver and the arguments, all floats.
    Op(Op),
    /// The receiver itself (`.clone()`).
    Same,
    /// `x.powi(n)`: `n` an integer literal, part of the op.
    Powi,
    /// `x.sin_cos()`: the pair `(sin x, cos x)`.
    SinCos,
}

#[derive(Debug)]
pub(super) enum MatrixMethod {
    /// This op of the receiver and the arguments, all floats.
    Op(Op),
    /// The receiver itself (`.clone()`, `.into_owned()`).
    Same,
    /// `m.map(|t| ..)` or `m.map(f64::exp)`: the closure becomes a scalar graph.
    Map,
    /// `a.component_div(&b)`, as `a ∘ map(recip)(b)`.
    ComponentDiv,
    /// `m.try_inverse()` without the `.unwrap()`/`.expect(..)` that makes it a value.
    TryInverse,
    /// `m.add_scalar(s)`, as `m + s 11ᵀ`: the same sum per entry as nalgebra's.
    AddScalar,
    /// `m.abs()`, as `m.map(f64::abs)`: the scalar `abs` per entry, with its subgradient.
    Abs,
    /// `m.amax()`, as `m.abs().max()`: the largest `|entry|`, its derivative at the first
    /// arg max.
    AbsMax,
    /// `m.mean()`, as `m.sum() / len`.
    Mean,
    /// `m.product()`, as `m.iter().product()`: nalgebra's fold, a chain of products whose
    /// reverse sweep stays finite and right where entries are 0.
    Product,
    /// `a.cross(&b)` of 3-vectors, from its entries as nalgebra computes them.
    Cross,
    /// `a.angle(&b)`, lowered as nalgebra's code: 0 if a norm is 0, else the arc cosine of
    /// the cosine clamped to `[−1, 1]`.
    Angle,
    /// `a.kronecker(&b)` of literal sizes, from its entries `a_ij b_kl`.
    Kronecker,
    /// `a.zip_map(&b, |x, y| ..)`: the closure per pair of entries, in a loop over them.
    ZipMap,
    /// `a.symmetric_eigenvalues()`: of `SymFromLower(a)`, the matrix nalgebra reads.
    SymmetricEigenvalues,
    /// `a.symmetric_eigen()`: a decomposition whose fields are lowered where they are read.
    SymmetricEigen,
    /// `a.lu()`: a factorisation, whose methods are lowered where they are called.
    Lu,
    /// `a.cholesky()`: the `Option` of a factorisation.
    Cholesky,
    /// `a.qr()`: a factorisation, whose `.q()` and `.r()` are lowered where they are called.
    Qr,
}

/// Read from a matrix's shape, the arguments taken as integers.
#[derive(Debug)]
pub(super) enum ShapeMethod {
    /// The sizes, known at compile time.
    Len,
    RowCount,
    ColumnCount,
    Shape,
    /// `m.iter()`: the entries in column-major order, lazily.
    Entries,
    /// Blocks copied out of the matrix: `column(j)`, `row(i)`, `columns(j, n)`, `rows(i, n)`,
    /// `fixed_rows::<K>(i)`, `fixed_columns::<K>(j)`, `fixed_view::<R, C>(i, j)`.
    Column,
    Row,
    Columns,
    Rows,
    FixedRows,
    FixedColumns,
    FixedView,
    /// `view((i, j), (r, c))`: `fixed_view` with the sizes as arguments, known here.
    View,
    /// `view_range(i..i + r, j..j + c)`, `rows_range(..)`, `columns_range(..)`: ranges whose
    /// lengths are known here.
    ViewRange,
    RowsRange,
    ColumnsRange,
    /// Copies of some entries, the others zero: `diagonal()`, `upper_triangle()`,
    /// `lower_triangle()`, and the swizzles of a vector (`xy()`, `zyx()`, ..).
    Diagonal,
    UpperTriangle,
    LowerTriangle,
    Swizzle,
}

/// Of integers known at compile time.
#[derive(Debug)]
pub(super) enum IntegerMethod {
    Min,
    Max,
}

#[derive(Debug)]
pub(super) enum IteratorMethod {
    /// The iterator itself (`.copied()`, `.iter()`, ..).
    Same,
    /// Adapters: a new lazy iterator.
    Zip,
    Enumerate,
    Map,
    Rev,
    Skip,
    Take,
    StepBy,
    /// Consumers: a loop, or its trip count.
    Count,
    Sum,
    Product,
    Fold,
}

/// Of a constant float array in scope.
#[derive(Debug)]
pub(super) enum ArrayMethod {
    Len,
    Entries,
}

/// A supported method.
#[derive(Debug)]
pub(super) struct Method {
    pub name: &'static str,
    /// How many arguments it takes besides the receiver.
    pub arity: usize,
    pub lowering: Lowering,
    /// Whether it takes a turbofish: a view's sizes, `sum::<f64>()`.
    pub turbofish: bool,
    /// How messages show it, after the `.`; `None` for aliases and no-ops that are accepted
    /// but not listed (`.clone()`, `.by_ref()`).
    pub usage: Option<&'static str>,
}

impl Method {
    /// A method listed in messages, `usage` showing how it is called.
    const fn new(
        name: &'static str,
        arity: usize,
        lowering: Lowering,
        usage: &'static str,
    ) -> Self {
        Method {
            name,
            arity,
            lowering,
            turbofish: false,
            usage: Some(usage),
        }
    }

    /// The method, taking a turbofish.
    const fn generic(mut self) -> Self {
        self.turbofish = true;
        self
    }

    /// The method, accepted but not listed in messages: an alias, or a no-op.
    const fn unlisted(mut self) -> Self {
        self.usage = None;
        self
    }

    pub(super) fn receiver(&self) -> Receiver {
        match self.lowering {
            L::Scalar(_) => R::Scalar,
            L::Matrix(_) | L::Shape(_) => R::Matrix,
            L::Integer(_) => R::Integer,
            L::Iterator(_) => R::Iterator,
            L::ConstantArray(_) => R::ConstantArray,
        }
    }
}

const fn scalar(
    name: &'static str,
    arity: usize,
    method: ScalarMethod,
    usage: &'static str,
) -> Method {
    Method::new(name, arity, L::Scalar(method), usage)
}

const fn matrix(
    name: &'static str,
    arity: usize,
    method: MatrixMethod,
    usage: &'static str,
) -> Method {
    Method::new(name, arity, L::Matrix(method), usage)
}

const fn shape(
    name: &'static str,
    arity: usize,
    method: ShapeMethod,
    usage: &'static str,
) -> Method {
    Method::new(name, arity, L::Shape(method), usage)
}

const fn integer(
    name: &'static str,
    arity: usize,
    method: IntegerMethod,
    usage: &'static str,
) -> Method {
    Method::new(name, arity, L::Integer(method), usage)
}

const fn iterator(
    name: &'static str,
    arity: usize,
    method: IteratorMethod,
    usage: &'static str,
) -> Method {
    Method::new(name, arity, L::Iterator(method), usage)
}

const fn array(
    name: &'static str,
    arity: usize,
    method: ArrayMethod,
    usage: &'static str,
) -> Method {
    Method::new(name, arity, L::ConstantArray(method), usage)
}

/// Every supported method, grouped by receiver; messages list them in this order.
#[rustfmt::skip]
pub(super) const METHODS: &[Method] = &[
    // Scalars: functions of the receiver, and of a second scalar.
    scalar("exp",    0, S::Op(Op::Fun(Fun::Exp)),    "exp()"),    // eˣ
    scalar("ln",     0, S::Op(Op::Fun(Fun::Ln)),     "ln()"),     // the natural logarithm
    scalar("sqrt",   0, S::Op(Op::Fun(Fun::Sqrt)),   "sqrt()"),   // the square root
    scalar("sin",    0, S::Op(Op::Fun(Fun::Sin)),    "sin()"),    // the sine
    scalar("sin_cos", 0, S::SinCos,                  "sin_cos()"), // both, as a pair
    scalar("cos",    0, S::Op(Op::Fun(Fun::Cos)),    "cos()"),    // the cosine
    scalar("tan",    0, S::Op(Op::Fun(Fun::Tan)),    "tan()"),    // the tangent
    scalar("tanh",   0, S::Op(Op::Fun(Fun::Tanh)),   "tanh()"),   // the hyperbolic tangent
    scalar("recip",  0, S::Op(Op::Fun(Fun::Recip)),  "recip()"),  // 1 / x
    scalar("abs",    0, S::Op(Op::Fun(Fun::Abs)),    "abs()"),    // |x|, derivative 0 at 0
    scalar("signum", 0, S::Op(Op::Fun(Fun::Signum)), "signum()"), // the sign, derivative 0
    scalar("ln_1p",  0, S::Op(Op::Fun(Fun::Ln1p)),   "ln_1p()"),  // ln(1 + x)
    scalar("exp_m1", 0, S::Op(Op::Fun(Fun::ExpM1)),  "exp_m1()"), // eˣ − 1
    scalar("log10",  0, S::Op(Op::Fun(Fun::Log10)),  "log10()"),  // the base-10 logarithm
    scalar("log2",   0, S::Op(Op::Fun(Fun::Log2)),   "log2()"),   // the base-2 logarithm
    scalar("atan",   0, S::Op(Op::Fun(Fun::Atan)),   "atan()"),   // the arc tangent
    scalar("asin",   0, S::Op(Op::Fun(Fun::Asin)),   "asin()"),   // the arc sine
    scalar("acos",   0, S::Op(Op::Fun(Fun::Acos)),   "acos()"),   // the arc cosine
    scalar("sinh",   0, S::Op(Op::Fun(Fun::Sinh)),   "sinh()"),   // the hyperbolic sine
    scalar("cosh",   0, S::Op(Op::Fun(Fun::Cosh)),   "cosh()"),   // the hyperbolic cosine
    scalar("cbrt",   0, S::Op(Op::Fun(Fun::Cbrt)),   "cbrt()"),   // the real cube root
    scalar("powi",   1, S::Powi,                     "powi(n)"),  // xⁿ, n an integer literal
    scalar("powf",   1, S::Op(Op::Powf),             "powf(p)"),  // xᵖ, differentiable in both
    scalar("max",    1, S::Op(Op::Max),              "max(y)"),   // the larger, and its derivative
    scalar("min",    1, S::Op(Op::Min),              "min(y)"),   // the smaller, and its derivative
    scalar("atan2",  1, S::Op(Op::Atan2),            "atan2(x)"), // the angle of (x, y), y the receiver
    scalar("hypot",  1, S::Op(Op::Hypot),            "hypot(y)"), // √(x² + y²) without overflow
    scalar("copysign", 1, S::Op(Op::CopySign),       "copysign(s)"), // |x| with the sign of s
    scalar("mul_add", 2, S::Op(Op::MulAdd),          "mul_add(a, b)"), // x a + b, rounded once
    scalar("clone",  0, S::Same,                     "clone()").unlisted(),
    // Matrices and vectors: linear algebra (`Op`'s documentation says what each computes).
    matrix("transpose",             0, M::Op(Op::Transpose),      "transpose()"),
    matrix("trace",                 0, M::Op(Op::Trace),          "trace()"),
    matrix("dot",                   1, M::Op(Op::Dot),            "dot(&y)"),
    matrix("component_mul",         1, M::Op(Op::ComponentMul),   "component_mul(&y)"),
    matrix("component_div",         1, M::ComponentDiv,           "component_div(&y)"),
    matrix("norm",                  0, M::Op(Op::Norm),           "norm()"),
    matrix("norm_squared",          0, M::Op(Op::NormSquared),    "norm_squared()"),
    matrix("normalize",             0, M::Op(Op::Normalize),      "normalize()"),
    matrix("sum",                   0, M::Op(Op::Sum),            "sum()").generic(),
    matrix("max",                   0, M::Op(Op::MaxEntry),       "max()"),
    matrix("min",                   0, M::Op(Op::MinEntry),       "min()"),
    matrix("map",                   1, M::Map,                    "map(|t| ..)"),
    matrix("add_scalar",            1, M::AddScalar,              "add_scalar(s)"),
    matrix("abs",                   0, M::Abs,                    "abs()"),
    matrix("amax",                  0, M::AbsMax,                 "amax()"),
    matrix("mean",                  0, M::Mean,                   "mean()"),
    matrix("product",               0, M::Product,                "product()"),
    matrix("zip_map",               2, M::ZipMap,                 "zip_map(&y, |a, b| ..)"),
    matrix("kronecker",             1, M::Kronecker,              "kronecker(&y)"),
    matrix("cross",                 1, M::Cross,                  "cross(&y)"),
    matrix("angle",                 1, M::Angle,                  "angle(&y)"),
    matrix("try_inverse",           0, M::TryInverse,             "try_inverse().unwrap()"),
    matrix("determinant",           0, M::Op(Op::Det),            "determinant()"),
    matrix("symmetric_eigenvalues", 0, M::SymmetricEigenvalues,   "symmetric_eigenvalues()"),
    matrix("symmetric_eigen",       0, M::SymmetricEigen,         "symmetric_eigen()"),
    matrix("singular_values",       0, M::Op(Op::SingularValues), "singular_values()"),
    matrix("lu",                    0, M::Lu,                     "lu().solve(&b).unwrap()"),
    matrix("cholesky",              0, M::Cholesky,               "cholesky().unwrap()"),
    matrix("qr",                    0, M::Qr,                     "qr().q()"),
    // Matrices: sizes, known at compile time, and the entries as an iterator.
    shape("len",   0, Sh::Len,         "len()"),
    shape("nrows", 0, Sh::RowCount,    "nrows()"),
    shape("ncols", 0, Sh::ColumnCount, "ncols()"),
    shape("shape", 0, Sh::Shape,       "shape()"),
    shape("iter",  0, Sh::Entries,     "iter()"),
    // Matrices: views, copies of a block.
    shape("column",        1, Sh::Column,       "column(j)"),
    shape("row",           1, Sh::Row,          "row(i)"),
    shape("columns",       2, Sh::Columns,      "columns(j, n)"),
    shape("rows",          2, Sh::Rows,         "rows(i, n)"),
    shape("fixed_rows",    1, Sh::FixedRows,    "fixed_rows::<K>(i)").generic(),
    shape("fixed_columns", 1, Sh::FixedColumns, "fixed_columns::<K>(j)").generic(),
    shape("fixed_view",    2, Sh::FixedView,    "fixed_view::<R, C>(i, j)").generic(),
    shape("view",          2, Sh::View,         "view((i, j), (r, c))"),
    shape("view_range",    2, Sh::ViewRange,    "view_range(i..i + r, j..j + c)"),
    shape("rows_range",    1, Sh::RowsRange,    "rows_range(i..i + r)"),
    shape("columns_range", 1, Sh::ColumnsRange, "columns_range(j..j + c)"),
    // Matrices: some entries, copied; the swizzles are found by `swizzle`'s two names.
    shape("diagonal",       0, Sh::Diagonal,      "diagonal()"),
    shape("upper_triangle", 0, Sh::UpperTriangle, "upper_triangle()"),
    shape("lower_triangle", 0, Sh::LowerTriangle, "lower_triangle()"),
    shape("xy",             0, Sh::Swizzle,       "xy()"),
    shape("xyz",            0, Sh::Swizzle,       "xyz()"),
    matrix("clone",        0, M::Same,          "clone()").unlisted(),
    matrix("into_owned",   0, M::Same,          "into_owned()").unlisted(),
    matrix("clone_owned",  0, M::Same,          "clone_owned()").unlisted(),
    // Integers known at compile time.
    integer("min", 1, IntegerMethod::Min, "min(k)"), // the smaller
    integer("max", 1, IntegerMethod::Max, "max(k)"), // the larger
    // Iterators: adapters, then consumers.
    iterator("zip",       1, It::Zip,       "zip()"),                   // pairs with another's items
    iterator("enumerate", 0, It::Enumerate, "enumerate()"),             // pairs with the index
    iterator("map",       1, It::Map,       "map(|..| ..)"),            // a closure of each item
    iterator("skip",      1, It::Skip,      "skip(n)"),                 // all but the first n
    iterator("take",      1, It::Take,      "take(n)"),                 // the first n
    iterator("rev",       0, It::Rev,       "rev()"),                   // backwards
    iterator("step_by",   1, It::StepBy,    "step_by(k)"),              // every k-th item
    iterator("copied",    0, It::Same,      "copied()"),                // the items themselves
    iterator("sum",       0, It::Sum,       "sum()").generic(),         // a loop adding the items
    iterator("product",   0, It::Product,   "product()").generic(),     // a loop multiplying them
    iterator("fold",      2, It::Fold,      "fold(init, |acc, t| ..)"), // a loop carrying `acc`
    iterator("count",     0, It::Count,     "count()"),                 // the trip count
    iterator("len",       0, It::Count,     "len()").unlisted(),
    iterator("iter",      0, It::Same,      "iter()").unlisted(),
    iterator("into_iter", 0, It::Same,      "into_iter()").unlisted(),
    iterator("cloned",    0, It::Same,      "cloned()").unlisted(),
    iterator("by_ref",    0, It::Same,      "by_ref()").unlisted(),
    // Constant float arrays in scope.
    array("len",  0, ArrayMethod::Len,     "len()"),  // the length, as `DATA.len()`
    array("iter", 0, ArrayMethod::Entries, "iter()"), // the entries
];

/// The method `name` whose lowering `pick` accepts (the receiver's), with that lowering.
fn find<T>(
    name: &str,
    pick: impl Fn(&'static Lowering) -> Option<&'static T>,
) -> Option<(&'static Method, &'static T)> {
    METHODS
        .iter()
        .filter(|method| method.name == name)
        .find_map(|method| pick(&method.lowering).map(|lowering| (method, lowering)))
}

/// The table entry of a vector's swizzle (`yx()`, `zyx()`, .., nalgebra's methods that pick
/// entries 0, 1, 2 by the letters `x`, `y`, `z`): `xy` for two letters, `xyz` for three.
fn swizzle(name: &str) -> Option<&'static str> {
    let letters = name.chars().all(|c| matches!(c, 'x' | 'y' | 'z'));
    match name.len() {
        2 if letters => Some("xy"),
        3 if letters => Some("xyz"),
        _ => None,
    }
}

/// The entries a swizzle picks: `zyx()` picks 2, 1, 0.
fn swizzle_indices(name: &str) -> Vec<usize> {
    name.chars()
        .map(|c| match c {
            'x' => 0,
            'y' => 1,
            _ => 2,
        })
        .collect()
}

/// Whether a `receiver` has a method `name`.
fn has(name: &str, receiver: Receiver) -> bool {
    METHODS
        .iter()
        .any(|method| method.name == name && method.receiver() == receiver)
}

/// The listed methods of a `receiver` as messages show them: "`.exp()`, .. and `.min(y)`".
pub(super) fn supported(receiver: Receiver) -> String {
    english_list(&usages(receiver))
}

/// `a, b and c`.
fn english_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [single] => single.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn usages(receiver: Receiver) -> Vec<String> {
    METHODS
        .iter()
        .filter(|method| method.receiver() == receiver)
        .filter_map(|method| method.usage.map(|usage| format!("`.{usage}`")))
        .collect()
}

/// Whether a method called `name` takes a turbofish, on some receiver.
fn takes_turbofish(name: &str) -> bool {
    METHODS
        .iter()
        .any(|method| method.name == name && method.turbofish)
}

/// Whether a scalar or matrix method called `name` reads its arguments as syntax (`powi`'s
/// literal, `map`'s closure): they are then not lowered, whatever the receiver, so a call on
/// the wrong receiver reports only that.
fn reads_arguments_as_syntax(name: &str) -> bool {
    METHODS.iter().any(|method| {
        method.name == name
            && matches!(
                method.lowering,
                L::Scalar(S::Powi) | L::Matrix(M::Map | M::ZipMap)
            )
    })
}

/// The scalar function a scalar method of no argument computes (`exp`, `ln`, ..), if any: what
/// a path names in `m.map(f64::exp)`.
fn scalar_function(method: &Method) -> Option<Fun> {
    match method.lowering {
        L::Scalar(S::Op(Op::Fun(fun))) if method.arity == 0 => Some(fun),
        _ => None,
    }
}

/// The scalar functions a path can name, for messages: "`exp`, `ln`, .. and `signum`".
fn scalar_functions() -> String {
    let names: Vec<String> = METHODS
        .iter()
        .filter(|method| scalar_function(method).is_some())
        .map(|method| format!("`{}`", method.name))
        .collect();
    english_list(&names)
}

/// `f64::exp`, `f32::tanh`, ...: a scalar function named by path.
fn scalar_function_path(path: &syn::Path) -> Option<Fun> {
    let names: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    let [float, name] = names.as_slice() else {
        return None;
    };
    if !matches!(float.as_str(), "f64" | "f32") {
        return None;
    }
    METHODS
        .iter()
        .filter(|method| method.name == name)
        .find_map(scalar_function)
}

impl Lowerer<'_> {
    /// `receiver.method(args)`: looked up in [`METHODS`] among the receiver's methods.
    pub(super) fn lower_method(&mut self, call: &syn::ExprMethodCall) -> Option<Val> {
        if let Some(inverse) = try_inverse_receiver(call) {
            let id = self.lower_inverse(call, inverse)?;
            return Some(self.val(id));
        }
        if is_update_method(call) {
            return self.lower_update_method(call);
        }
        let name = call.method.to_string();
        let receiver = self.value(&call.receiver, None)?;
        if let Val::Factor(factor) = &receiver {
            return self.factor_method(call, factor);
        }
        if let Val::Named(array) = &receiver {
            let found = find(&name, |lowering| match lowering {
                L::ConstantArray(method) => Some(method),
                _ => None,
            });
            if let Some((_, method)) = found.filter(|(m, _)| m.arity == call.args.len()) {
                return Some(self.constant_array_method(array, method));
            }
        }
        if let Val::Iter(iter) = &receiver {
            let found = find(&name, |lowering| match lowering {
                L::Iterator(method) => Some(method),
                _ => None,
            });
            let Some((entry, method)) = found else {
                self.unknown_method(call, R::Iterator, "an iterator");
                return None;
            };
            if !self.expect_args(call, entry.arity) {
                return None;
            }
            return self.iterator_method(call, iter, method);
        }
        if !matches!(receiver, Val::Named(_))
            && self.int_of(&receiver, call.receiver.span()).is_some()
        {
            let found = find(&name, |lowering| match lowering {
                L::Integer(method) => Some(method),
                _ => None,
            });
            let Some((entry, method)) = found else {
                self.unknown_method(call, R::Integer, "an integer");
                return None;
            };
            if !self.expect_args(call, entry.arity) {
                return None;
            }
            return self.integer_method(call, &receiver, entry, method);
        }
        let receiver = self.float_node(&receiver, &call.receiver)?;
        let ty = self.graph().ty(receiver).clone();
        if ty.is_scalar() {
            let found = find(&name, |lowering| match lowering {
                L::Scalar(method) => Some(method),
                _ => None,
            });
            // The method is recognised before its arguments are read: an unknown one gets
            // the unknown-method message, whatever its arguments.
            let Some((entry, method)) = found else {
                if let Op::Call(c) = self.graph().op(receiver) {
                    if has(&name, R::Matrix) {
                        self.untyped_matrix_call(call, *c);
                        return None;
                    }
                }
                self.unknown_method(call, R::Scalar, "a scalar");
                return None;
            };
            let args = self.float_arguments(call)?;
            return self.scalar_method(call, receiver, entry, method, args);
        }
        let shape = find(swizzle(&name).unwrap_or(&name), |lowering| match lowering {
            L::Shape(method) => Some(method),
            _ => None,
        });
        if let (Some((entry, method)), Ty::Mat(rows, cols)) = (shape, &ty) {
            if !self.expect_args(call, entry.arity) {
                return None;
            }
            return self.shape_method(call, receiver, method, rows.clone(), cols.clone());
        }
        let found = find(&name, |lowering| match lowering {
            L::Matrix(method) => Some(method),
            _ => None,
        });
        let Some((entry, method)) = found else {
            self.unknown_method(call, R::Matrix, &format!("a {}", ty.describe()));
            return None;
        };
        // These read one triangle of a square matrix (`SymFromLower`), which reports no
        // shape error of the user's own.
        let one_triangle = matches!(
            method,
            M::SymmetricEigen | M::SymmetricEigenvalues | M::Cholesky
        );
        if one_triangle && !matches!(&ty, Ty::Mat(r, c) if r == c) {
            self.cx.error_spanned_by(
                call,
                format!(
                    "`.{name}()` needs a square matrix, found a {}",
                    ty.describe()
                ),
            );
            return None;
        }
        if let M::SymmetricEigen = method {
            if !self.expect_args(call, 0) {
                return None;
            }
            // nalgebra reads the lower triangle only (as for `symmetric_eigenvalues()`).
            let s = self.build_method(call, Op::SymFromLower, receiver, Vec::new())?;
            let s = self.val(s);
            return Some(Val::Factor(Rc::new(Factor::SymmetricEigen(s))));
        }
        if let M::Lu | M::Cholesky | M::Qr = method {
            if !self.expect_args(call, 0) {
                return None;
            }
            let matrix = self.val(receiver);
            return Some(Val::Factor(Rc::new(match method {
                M::Lu => Factor::Lu(matrix),
                M::Qr => Factor::Qr(matrix),
                _ => Factor::CholeskyOption(matrix),
            })));
        }
        let args = self.float_arguments(call)?;
        self.matrix_method(call, receiver, entry, method, args)
            .map(|id| self.val(id))
    }

    /// A method of a factorisation, or of the `Option` one returns: `lu.solve(&b)` then
    /// `.unwrap()`, `lu.determinant()`, `a.cholesky().unwrap()`, then `chol.solve(&b)`,
    /// `.l()`, `.inverse()`, `.determinant()`, `.ln_determinant()`.
    fn factor_method(&mut self, call: &syn::ExprMethodCall, factor: &Factor) -> Option<Val> {
        let span = call.span();
        let name = call.method.to_string();
        let unsupported = |this: &Self, what: &str, supported: &str| {
            this.cx.error_spanned_by(
                &call.method,
                format!("unsupported method `.{name}()` on {what}; supported are {supported}"),
            );
            None
        };
        match (factor, name.as_str()) {
            (Factor::Lu(a), "solve") => {
                if !self.expect_args(call, 1) {
                    return None;
                }
                let b = self.lower_expr(&call.args[0], None)?;
                let b = self.val(b);
                Some(Val::Factor(Rc::new(Factor::LuSolve(a.clone(), b))))
            }
            (Factor::Lu(a), "determinant") => {
                let a = self.node_of(a, span, "a matrix")?;
                self.expect_args(call, 0)
                    .then(|| self.factor_node(call, Op::Det, &[a]))?
            }
            (Factor::Lu(_), _) => unsupported(
                self,
                "an LU factorisation",
                "`.solve(&b).unwrap()`, `.solve(&b).expect(\"...\")` and `.determinant()`",
            ),
            (Factor::LuSolve(..) | Factor::CholeskyOption(_), _) => {
                let Some(check) = self.option_check(call) else {
                    let (what, write) = match factor {
                        Factor::LuSolve(..) => ("`.solve(&b)`", ".solve(&b)"),
                        _ => ("`.cholesky()`", ".cholesky()"),
                    };
                    self.cx.error_spanned_by(
                        &call.method,
                        format!(
                            "{what} returns an `Option`; write `{write}.unwrap()` or \
                             `{write}.expect(\"...\")` with a string literal, then use the value"
                        ),
                    );
                    return None;
                };
                match factor {
                    Factor::LuSolve(a, b) => {
                        let a = self.node_of(a, span, "a matrix")?;
                        let b = self.node_of(b, span, "a matrix")?;
                        self.factor_node(call, Op::Solve(Solver::Lu(check)), &[a, b])
                    }
                    _ => {
                        let Factor::CholeskyOption(a) = factor else {
                            return None;
                        };
                        let a = self.node_of(a, span, "a matrix")?;
                        // nalgebra reads the lower triangle only: the factor is a function
                        // of it.
                        let s = self.factor_node(call, Op::SymFromLower, &[a])?;
                        let s_id = self.node_of(&s, span, "a matrix")?;
                        let l = self.factor_node(call, Op::Cholesky(check), &[s_id])?;
                        Some(Val::Factor(Rc::new(Factor::Cholesky { s, l })))
                    }
                }
            }
            (Factor::Qr(a), "q" | "r") => {
                if !self.expect_args(call, 0) {
                    return None;
                }
                let a = self.node_of(a, span, "a matrix")?;
                let op = if name == "q" { Op::QrQ } else { Op::QrR };
                self.factor_node(call, op, &[a])
            }
            (Factor::Qr(_), _) => unsupported(self, "a QR factorisation", "`.q()` and `.r()`"),
            (Factor::SymmetricEigen(_), _) => unsupported(
                self,
                "an eigendecomposition",
                "its fields `.eigenvalues` and `.eigenvectors`",
            ),
            (Factor::Cholesky { s, l }, method) => {
                let arity = usize::from(method == "solve");
                if !matches!(
                    method,
                    "solve" | "l" | "inverse" | "determinant" | "ln_determinant"
                ) {
                    return unsupported(
                        self,
                        "a Cholesky factorisation",
                        "`.solve(&b)`, `.l()`, `.inverse()`, `.determinant()` and \
                         `.ln_determinant()`",
                    );
                }
                if !self.expect_args(call, arity) {
                    return None;
                }
                if method == "l" {
                    return Some(l.clone());
                }
                let s = self.node_of(s, span, "a matrix")?;
                match method {
                    "solve" => {
                        let b = self.lower_expr(&call.args[0], None)?;
                        self.factor_node(call, Op::Solve(Solver::Cholesky), &[s, b])
                    }
                    "inverse" => {
                        let ty = self.graph().ty(s).clone();
                        let identity = self.g().add_typed(Op::Identity, &[], ty, span);
                        self.factor_node(call, Op::Solve(Solver::Cholesky), &[s, identity])
                    }
                    "determinant" => self.factor_node(call, Op::Det, &[s]),
                    _ => self.factor_node(call, Op::LogDet, &[s]),
                }
            }
        }
    }

    /// A field of a decomposition: `eigen.eigenvalues`, `eigen.eigenvectors`.
    pub(super) fn factor_field(
        &mut self,
        field: &syn::ExprField,
        factor: &Factor,
        name: &proc_macro2::Ident,
    ) -> Option<Val> {
        let op = match (factor, name.to_string().as_str()) {
            (Factor::SymmetricEigen(_), "eigenvalues") => Op::SymEigenvalues,
            (Factor::SymmetricEigen(_), "eigenvectors") => Op::SymEigenvectors,
            _ => {
                self.cx.error_spanned_by(
                    name,
                    "unsupported field; a symmetric eigendecomposition has the fields \
                     `.eigenvalues` and `.eigenvectors`, and the other factorisations are \
                     used through their methods (`.solve(&b)`, `.determinant()`, ..)",
                );
                return None;
            }
        };
        let Factor::SymmetricEigen(s) = factor else {
            return None;
        };
        let s = self.node_of(s, field.span(), "a matrix")?;
        let id = self
            .g()
            .try_add(op, &[s], field.span())
            .map_err(|message| self.cx.error_spanned_by(field, message))
            .ok()?;
        Some(self.val(id))
    }

    /// The check of `.unwrap()` or `.expect("message")`, `None` for any other call.
    fn option_check(&self, call: &syn::ExprMethodCall) -> Option<InverseCheck> {
        match (call.method.to_string().as_str(), string_args(call)) {
            ("unwrap", Some(messages)) if messages.is_empty() => Some(InverseCheck::Unwrap),
            ("expect", Some(messages)) if messages.len() == 1 => {
                Some(InverseCheck::Expect(messages[0].clone()))
            }
            _ => None,
        }
    }

    /// `op(operands)` as a value, a shape mismatch reported at `call`.
    fn factor_node(&mut self, call: &syn::ExprMethodCall, op: Op, operands: &[Id]) -> Option<Val> {
        let id = self
            .g()
            .try_add(op, operands, call.span())
            .map_err(|message| self.cx.error_spanned_by(call, message))
            .ok()?;
        Some(self.val(id))
    }

    /// `DATA.len()` and `DATA.iter()` of a float array constant in scope.
    fn constant_array_method(&mut self, array: &proc_macro2::Ident, method: &ArrayMethod) -> Val {
        let len = SymInt::Len(array.clone());
        match method {
            ArrayMethod::Len => Val::Sym(len),
            ArrayMethod::Entries => Val::Iter(Rc::new(Iter::constant_array(array.clone(), len))),
        }
    }

    /// `a.min(b)`, `a.max(b)` of integers.
    fn integer_method(
        &mut self,
        call: &syn::ExprMethodCall,
        receiver: &Val,
        entry: &Method,
        method: &IntegerMethod,
    ) -> Option<Val> {
        let span = call.span();
        let other = self.value(&call.args[0], None)?;
        let (Some(Ok(a)), Some(Ok(b))) = (self.int_of(receiver, span), self.int_of(&other, span))
        else {
            self.cx.error_spanned_by(
                call,
                format!(
                    "`.{}()` is supported on integers known at compile time",
                    entry.name
                ),
            );
            return None;
        };
        let value = match (a, b, method) {
            (SymInt::Lit(a), SymInt::Lit(b), IntegerMethod::Min) => SymInt::Lit(a.min(b)),
            (SymInt::Lit(a), SymInt::Lit(b), IntegerMethod::Max) => SymInt::Lit(a.max(b)),
            (a, b, IntegerMethod::Min) => SymInt::Min(Box::new(a), Box::new(b)),
            (a, b, IntegerMethod::Max) => SymInt::Max(Box::new(a), Box::new(b)),
        };
        Some(Val::int(value))
    }

    /// Sizes, views and `.iter()` of the `rows x cols` matrix `m`, read from its shape.
    fn shape_method(
        &mut self,
        call: &syn::ExprMethodCall,
        m: Id,
        method: &ShapeMethod,
        rows: Dim,
        cols: Dim,
    ) -> Option<Val> {
        let span = call.span();
        let size = Val::size;
        Some(match method {
            Sh::Len => {
                let (r, c) = (size(&rows), size(&cols));
                return self.int_arith(IntOp::Mul, &r, &c, span);
            }
            Sh::RowCount => size(&rows),
            Sh::ColumnCount => size(&cols),
            Sh::Shape => Val::Tuple(vec![size(&rows), size(&cols)]),
            Sh::Entries => Val::Iter(Rc::new(Iter::elements(self.val(m), rows, cols))),
            Sh::Column
            | Sh::Row
            | Sh::Columns
            | Sh::Rows
            | Sh::FixedRows
            | Sh::FixedColumns
            | Sh::FixedView
            | Sh::View => return self.lower_view(call, method, m, rows, cols),
            Sh::ViewRange | Sh::RowsRange | Sh::ColumnsRange => {
                return self.lower_view_range(call, method, m, rows, cols)
            }
            Sh::Diagonal | Sh::UpperTriangle | Sh::LowerTriangle | Sh::Swizzle => {
                return self.lower_entries_of(call, method, m, &rows, &cols)
            }
        })
    }

    /// `column(j)`, `row(i)`, `columns(j, n)`, `rows(i, n)`, `fixed_rows::<K>(i)`,
    /// `fixed_columns::<K>(j)`, `fixed_view::<R, C>(i, j)`: a copy of the block.
    fn lower_view(
        &mut self,
        call: &syn::ExprMethodCall,
        view: &ShapeMethod,
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
        let (i, j, r, c) = match (view, args.as_slice(), generics.as_slice()) {
            (Sh::Column, [j], []) => (zero, j.clone(), rows, Dim::Lit(1)),
            (Sh::Row, [i], []) => (i.clone(), zero, Dim::Lit(1), cols),
            (Sh::Columns, [j, n], []) => {
                (zero, j.clone(), rows, self.static_dim(n, &call.args[1])?)
            }
            (Sh::Rows, [i, n], []) => (i.clone(), zero, self.static_dim(n, &call.args[1])?, cols),
            (Sh::FixedRows, [i], [k]) => (i.clone(), zero, k.clone(), cols),
            (Sh::FixedColumns, [j], [k]) => (zero, j.clone(), rows, k.clone()),
            (Sh::FixedView, [i, j], [r, c]) => (i.clone(), j.clone(), r.clone(), c.clone()),
            (Sh::View, [Val::Tuple(start), Val::Tuple(size)], [])
                if start.len() == 2 && size.len() == 2 =>
            {
                let r = self.static_dim(&size[0], &call.args[1])?;
                let c = self.static_dim(&size[1], &call.args[1])?;
                (start[0].clone(), start[1].clone(), r, c)
            }
            (Sh::View, _, []) => {
                self.cx.error_spanned_by(
                    call,
                    "`.view()` takes the start and the sizes as pairs: `view((i, j), (r, c))`",
                );
                return None;
            }
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

    /// `view_range(i..i + r, j..j + c)`, `rows_range(..)`, `columns_range(..)`: the block
    /// the ranges select, whose lengths must be known here (the starts may be loop indices).
    fn lower_view_range(
        &mut self,
        call: &syn::ExprMethodCall,
        method: &ShapeMethod,
        m: Id,
        rows: Dim,
        cols: Dim,
    ) -> Option<Val> {
        let span = call.span();
        let (row_range, col_range) = match method {
            Sh::ViewRange => (Some(&call.args[0]), Some(&call.args[1])),
            Sh::RowsRange => (Some(&call.args[0]), None),
            _ => (None, Some(&call.args[0])),
        };
        let (i, r) = match row_range {
            Some(range) => self.range_of(call, range, &rows)?,
            None => (Val::Int(0), rows),
        };
        let (j, c) = match col_range {
            Some(range) => self.range_of(call, range, &cols)?,
            None => (Val::Int(0), cols),
        };
        let (Some(i), Some(j)) = (self.int_node(&i, span), self.int_node(&j, span)) else {
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

    /// The start and the length of a range of rows or columns out of `dim`: `a..b` and `a..=b`
    /// with both known here, `k..k + n` with `n` known here, `a..`, `..b`, `..`, or one index.
    fn range_of(
        &mut self,
        call: &syn::ExprMethodCall,
        expr: &Expr,
        dim: &Dim,
    ) -> Option<(Val, Dim)> {
        let Expr::Range(range) = expr else {
            return Some((self.value(expr, None)?, Dim::Lit(1)));
        };
        let start = match &range.start {
            Some(start) => self.value(start, None)?,
            None => Val::Int(0),
        };
        let closed = i64::from(matches!(range.limits, syn::RangeLimits::Closed(_)));
        let tokens = |e: &Expr| quote::ToTokens::to_token_stream(e).to_string();
        let length = match (&range.start, range.end.as_deref()) {
            (_, None) => match (&start, dim) {
                (Val::Int(0), dim) => Some(dim.clone()),
                (Val::Int(s), Dim::Lit(d)) => i64::try_from(*d)
                    .ok()
                    .and_then(|d| usize::try_from(d - s).ok())
                    .map(Dim::Lit),
                _ => None,
            },
            // `k..k + n`: the length is `n`, whatever `k`.
            (Some(first), Some(Expr::Binary(sum)))
                if matches!(sum.op, syn::BinOp::Add(_)) && tokens(&sum.left) == tokens(first) =>
            {
                match self.value(&sum.right, None)? {
                    Val::Int(n) => usize::try_from(n + closed).ok().map(Dim::Lit),
                    Val::Sym(SymInt::Name(name)) | Val::Named(name) if closed == 0 => {
                        Some(Dim::Param(name))
                    }
                    _ => None,
                }
            }
            (_, Some(end)) => match (&start, self.value(end, None)?) {
                (Val::Int(s), Val::Int(e)) => usize::try_from(e - s + closed).ok().map(Dim::Lit),
                _ => None,
            },
        };
        let Some(length) = length else {
            self.cx.error_spanned_by(
                expr,
                format!(
                    "the lengths of the ranges of `.{}()` must be known at compile time: write \
                     `k..k + 2`, with the start possibly a loop index, or literal bounds",
                    call.method
                ),
            );
            return None;
        };
        Some((start, length))
    }

    /// `diagonal()`, `upper_triangle()`, `lower_triangle()` and the swizzles (`xy()`, ..) of
    /// the `rows x cols` matrix `m`: where the sizes are literals, one `Assemble` of its entries
    /// (`Index` reads) and zeros, the code a hand-written version has; else the ops `Diagonal`
    /// and `Triangle`.
    fn lower_entries_of(
        &mut self,
        call: &syn::ExprMethodCall,
        method: &ShapeMethod,
        m: Id,
        rows: &Dim,
        cols: &Dim,
    ) -> Option<Val> {
        let span = call.span();
        let name = call.method.to_string();
        let of = Ty::Mat(rows.clone(), cols.clone());
        // The position each entry of the result is read from, column by column (`None`: a
        // zero), and the result's type.
        let (positions, ty): (Vec<Option<(usize, usize)>>, Ty) = if let Sh::Swizzle = method {
            let picks = swizzle_indices(&name);
            let needed = picks.iter().max().map_or(0, |&k| k + 1);
            let fits = *cols == Dim::Lit(1) && !matches!(rows, Dim::Lit(n) if *n < needed);
            if !fits {
                self.cx.error_spanned_by(
                    call,
                    format!(
                        "`.{name}()` needs a column vector of at least {needed} entries; found a \
                         {}",
                        of.describe()
                    ),
                );
                return None;
            }
            let positions = picks.iter().map(|&i| Some((i, 0))).collect();
            (positions, Ty::mat(picks.len(), 1))
        } else {
            let (Dim::Lit(r), Dim::Lit(c)) = (rows, cols) else {
                // A const-generic size has no list of entries: nalgebra's method, as an op.
                let op = match method {
                    Sh::Diagonal => Op::Diagonal,
                    Sh::UpperTriangle => Op::Triangle(Triangle::Upper),
                    _ => Op::Triangle(Triangle::Lower),
                };
                let id = self
                    .g()
                    .try_add(op, &[m], span)
                    .map_err(|message| self.cx.error_spanned_by(call, message))
                    .ok()?;
                return Some(self.val(id));
            };
            let (r, c) = (*r, *c);
            match method {
                Sh::Diagonal if r != c => {
                    self.cx.error_spanned_by(
                        call,
                        format!(
                            "`.diagonal()` needs a square matrix, found a {}",
                            of.describe()
                        ),
                    );
                    return None;
                }
                Sh::Diagonal => ((0..r).map(|k| Some((k, k))).collect(), Ty::mat(r, 1)),
                _ => {
                    let upper = matches!(method, Sh::UpperTriangle);
                    let positions = (0..r * c)
                        .map(|k| {
                            let (i, j) = (k % r, k / r);
                            let kept = if upper { i <= j } else { i >= j };
                            kept.then_some((i, j))
                        })
                        .collect();
                    (positions, of.clone())
                }
            }
        };
        let zero = self.g().lit(0.0, span);
        let entries: Vec<Id> = positions
            .iter()
            .map(|position| match position {
                Some((i, j)) => self.g().add(Op::Index(*i, *j), &[m], span),
                None => zero,
            })
            .collect();
        let id = self.g().add_typed(Op::Assemble, &entries, ty, span);
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

    /// The arguments of a scalar's or a matrix's method, lowered as floats, unless the method
    /// reads them as syntax; `None` on an error, or a turbofish the method does not take.
    fn float_arguments(&mut self, call: &syn::ExprMethodCall) -> Option<Vec<Id>> {
        let name = call.method.to_string();
        if let Some(turbofish) = &call.turbofish {
            if !takes_turbofish(&name) {
                self.cx.error_spanned_by(
                    turbofish,
                    format!("a turbofish `::<...>` on `.{name}()` is not supported; remove it"),
                );
                return None;
            }
        }
        if reads_arguments_as_syntax(&name) {
            return Some(Vec::new());
        }
        let args: Vec<Option<Id>> = call.args.iter().map(|a| self.lower_expr(a, None)).collect();
        args.into_iter().collect()
    }

    /// A scalar's method, its arguments `args` lowered.
    fn scalar_method(
        &mut self,
        call: &syn::ExprMethodCall,
        receiver: Id,
        entry: &Method,
        method: &ScalarMethod,
        args: Vec<Id>,
    ) -> Option<Val> {
        let op = match method {
            S::Op(op) => op.clone(),
            S::Same => {
                return self
                    .expect_args(call, entry.arity)
                    .then(|| self.val(receiver))
            }
            // The exponent is part of the op, checked by `powi_exponent`.
            S::Powi => {
                let op = Op::Fun(Fun::Powi(self.powi_exponent(call)?));
                let id = self.build_method(call, op, receiver, args)?;
                return Some(self.val(id));
            }
            // `(sin x, cos x)`, read by a tuple pattern or `.0` / `.1`.
            S::SinCos => {
                if !self.expect_args(call, entry.arity) {
                    return None;
                }
                let sin = self.build_method(call, Op::Fun(Fun::Sin), receiver, Vec::new())?;
                let cos = self.build_method(call, Op::Fun(Fun::Cos), receiver, Vec::new())?;
                return Some(Val::Tuple(vec![self.val(sin), self.val(cos)]));
            }
        };
        if !self.expect_args(call, entry.arity) {
            return None;
        }
        let id = self.build_method(call, op, receiver, args)?;
        Some(self.val(id))
    }

    /// A matrix's method, its arguments `args` lowered (but `map`'s closure).
    fn matrix_method(
        &mut self,
        call: &syn::ExprMethodCall,
        receiver: Id,
        entry: &Method,
        method: &MatrixMethod,
        args: Vec<Id>,
    ) -> Option<Id> {
        let op = match method {
            M::Op(op) => op.clone(),
            M::Same => return self.expect_args(call, entry.arity).then_some(receiver),
            M::Map => return self.lower_map(call, receiver),
            M::ComponentDiv => return self.lower_component_div(call, receiver, &args),
            M::ZipMap => return self.lower_zip_map(call, receiver),
            M::AddScalar
            | M::Abs
            | M::AbsMax
            | M::Mean
            | M::Product
            | M::Cross
            | M::Angle
            | M::Kronecker => {
                if !self.expect_args(call, entry.arity) {
                    return None;
                }
                return self.lower_composite_method(call, method, receiver, &args);
            }
            // nalgebra reads the lower triangle only, so the eigenvalues are a function of it:
            // entries above the diagonal get no derivative, as in the user's function.
            M::SymmetricEigenvalues => {
                if !self.expect_args(call, 0) {
                    return None;
                }
                let lower = self.build_method(call, Op::SymFromLower, receiver, Vec::new())?;
                return self.build_method(call, Op::SymEigenvalues, lower, Vec::new());
            }
            M::Lu | M::Cholesky | M::Qr | M::SymmetricEigen => {
                unreachable!("factorisations are values of their own, lowered in `lower_method`")
            }
            M::TryInverse => {
                self.cx.error_spanned_by(
                    call,
                    "`.try_inverse()` returns an `Option`; write `.try_inverse().unwrap()` or \
                     `.try_inverse().expect(\"...\")`",
                );
                return None;
            }
        };
        if !self.expect_args(call, entry.arity) {
            return None;
        }
        self.build_method(call, op, receiver, args)
    }

    /// `op(receiver, args..)`, a shape mismatch reported at `call`.
    fn build_method(
        &mut self,
        call: &syn::ExprMethodCall,
        op: Op,
        receiver: Id,
        args: Vec<Id>,
    ) -> Option<Id> {
        let mut operands = vec![receiver];
        operands.extend(args);
        self.g()
            .try_add(op, &operands, call.span())
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
            Expr::Closure(closure) if self.reads_outer_values(closure) => {
                return self.map_reading_outer_values(matrix, closure, call.span());
            }
            Expr::Closure(closure) => self.lower_closure(closure)?,
            Expr::Path(path) => match scalar_function_path(&path.path) {
                Some(fun) => self.scalar_fn_of(fun),
                None => {
                    self.cx.error_spanned_by(
                        path,
                        format!(
                            "unsupported function in `.map()`; use a closure such as \
                             `|t| 1.0 / (1.0 + (-t).exp())` or a path such as `f64::exp` to \
                             one of {}",
                            scalar_functions()
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

    /// Whether a closure's body names a value of the code around it (a parameter, a `let`):
    /// such a closure is differentiated through as a loop over the entries, not lowered to a
    /// scalar function of its argument alone, where the value would be a constant.
    fn reads_outer_values(&self, closure: &syn::ExprClosure) -> bool {
        struct Names(HashSet<String>);
        impl<'ast> syn::visit::Visit<'ast> for Names {
            fn visit_expr_path(&mut self, path: &'ast syn::ExprPath) {
                if let Some(ident) = path.path.get_ident() {
                    self.0.insert(ident.to_string());
                }
            }
        }
        let mut names = Names(HashSet::new());
        syn::visit::Visit::visit_expr(&mut names, &closure.body);
        for input in &closure.inputs {
            let pat = match input {
                Pat::Type(typed) => &*typed.pat,
                pat => pat,
            };
            if let Pat::Ident(p) = pat {
                names.0.remove(&p.ident.to_string());
            }
        }
        names.0.iter().any(|name| self.lookup(name).is_some())
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
        // Only a closure of its own argument gets here (`reads_outer_values`): its body is a
        // scalar function of that argument alone.
        let mut scope = Scope::default();
        scope.names.insert(
            argument.to_string(),
            Binding {
                val: Some(Val::Node(0, t)),
                mutable: false,
                borrowed: false,
            },
        );
        let mut inner = Lowerer {
            cx: self.cx,
            sig: self.sig,
            frames: vec![Frame::new(body, 0, Vec::new())],
            next_frame: 1,
            scopes: vec![scope],
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

    /// The matrix methods lowered to ops that have rules of their own (see [`MatrixMethod`]).
    fn lower_composite_method(
        &mut self,
        call: &syn::ExprMethodCall,
        method: &MatrixMethod,
        m: Id,
        args: &[Id],
    ) -> Option<Id> {
        let span = call.span();
        let ty = self.graph().ty(m).clone();
        let Ty::Mat(rows, cols) = ty.clone() else {
            return None;
        };
        Some(match method {
            M::AddScalar => {
                if !self.graph().ty(args[0]).is_scalar() {
                    self.cx.error_spanned_by(
                        &call.args[0],
                        "`.add_scalar()` takes a scalar; add a matrix with `+`",
                    );
                    return None;
                }
                let filled = self.g().add_typed(Op::Fill, &[args[0]], ty, span);
                self.g().add(Op::Add, &[m, filled], span)
            }
            M::Abs | M::AbsMax => {
                let abs = self.scalar_fn_of(Fun::Abs);
                let entries = self.g().add(Op::Map(abs), &[m], span);
                if matches!(method, M::Abs) {
                    entries
                } else {
                    self.g().add(Op::MaxEntry, &[entries], span)
                }
            }
            // nalgebra divides the sum by the length; `a / n` is `a · (1 / n)` here, as for
            // every division, equal up to rounding.
            M::Mean => {
                let sum = self.g().add(Op::Sum, &[m], span);
                let count = self.entry_count(&rows, &cols, span);
                let inverse = self.g().add(Op::Fun(Fun::Recip), &[count], span);
                self.g().add(Op::Mul, &[inverse, sum], span)
            }
            M::Product => {
                let entries = Rc::new(Iter::elements(self.val(m), rows, cols));
                let product = self.iterator_method(call, &entries, &It::Product)?;
                return self.node_of(&product, span, "a product");
            }
            M::Cross => return self.lower_cross(call, m, args[0]),
            M::Angle => {
                let angle = self.lower_angle(call, m, args[0])?;
                return self.node_of(&angle, span, "an angle");
            }
            M::Kronecker => return self.lower_kronecker(call, m, args[0]),
            M::Op(_)
            | M::Same
            | M::Map
            | M::ComponentDiv
            | M::TryInverse
            | M::ZipMap
            | M::SymmetricEigenvalues
            | M::Lu
            | M::Cholesky
            | M::Qr
            | M::SymmetricEigen => return None,
        })
    }

    /// The number of entries of a `rows x cols` matrix, as a scalar.
    fn entry_count(&mut self, rows: &Dim, cols: &Dim, span: Span) -> Id {
        let size = |g: &mut Graph, dim: &Dim| match dim {
            #[allow(
                clippy::cast_precision_loss,
                reason = "a size, as nalgebra converts it"
            )]
            Dim::Lit(n) => g.lit(*n as f64, span),
            Dim::Param(name) => g.add_typed(Op::IntConst(name.clone()), &[], Ty::Scalar, span),
        };
        if let (Dim::Lit(r), Dim::Lit(c)) = (rows, cols) {
            return size(self.g(), &Dim::Lit(r * c));
        }
        let r = size(self.g(), rows);
        let c = size(self.g(), cols);
        self.g().add(Op::Mul, &[r, c], span)
    }

    /// `a × b` of two 3-vectors (columns or rows), entry by entry as nalgebra writes it:
    /// `(a_y b_z − a_z b_y, a_z b_x − a_x b_z, a_x b_y − a_y b_x)`.
    fn lower_cross(&mut self, call: &syn::ExprMethodCall, a: Id, b: Id) -> Option<Id> {
        let span = call.span();
        let (ta, tb) = (self.graph().ty(a).clone(), self.graph().ty(b).clone());
        let column = Ty::Mat(Dim::Lit(3), Dim::Lit(1));
        if ta != tb || (ta != column && ta != column.transposed()) {
            self.cx.error_spanned_by(
                call,
                format!(
                    "`.cross()` needs two 3-vectors of the same shape (3x1 or 1x3), found a {} \
                     and a {}",
                    ta.describe(),
                    tb.describe()
                ),
            );
            return None;
        }
        let is_column = ta == column;
        let at = |g: &mut Graph, v: Id, k: usize| {
            let (i, j) = if is_column { (k, 0) } else { (0, k) };
            g.add(Op::Index(i, j), &[v], span)
        };
        let g = self.g();
        let (ax, ay, az) = (at(g, a, 0), at(g, a, 1), at(g, a, 2));
        let (bx, by, bz) = (at(g, b, 0), at(g, b, 1), at(g, b, 2));
        let entry = |g: &mut Graph, p: (Id, Id), q: (Id, Id)| {
            let left = g.add(Op::Mul, &[p.0, p.1], span);
            let right = g.add(Op::Mul, &[q.0, q.1], span);
            g.add(Op::Sub, &[left, right], span)
        };
        let x = entry(g, (ay, bz), (az, by));
        let y = entry(g, (az, bx), (ax, bz));
        let z = entry(g, (ax, by), (ay, bx));
        Some(g.add_typed(Op::Assemble, &[x, y, z], ta, span))
    }

    /// `a.angle(&b)` as nalgebra computes it (`Matrix::angle`): 0 if either norm is 0, else
    /// `acos(clamp(<a, b> / (‖a‖ ‖b‖), −1, 1))`, lowered from that code, so the test is a
    /// branch and the clamp a `max`/`min` (slope 0 where it clamps), each with its rules.
    fn lower_angle(&mut self, call: &syn::ExprMethodCall, a: Id, b: Id) -> Option<Val> {
        let span = call.span();
        let (ta, tb) = (self.graph().ty(a).clone(), self.graph().ty(b).clone());
        if ta != tb {
            self.cx.error_spanned_by(
                call,
                format!(
                    "dimension mismatch in `.angle()`: left is {}, right is {}",
                    ta.describe(),
                    tb.describe()
                ),
            );
            return None;
        }
        let code: Expr = syn::parse_quote_spanned! {span=> {
            let prod = __matdiff_angle_a.dot(&__matdiff_angle_b);
            let n1 = __matdiff_angle_a.norm();
            let n2 = __matdiff_angle_b.norm();
            if n1 == 0.0 || n2 == 0.0 {
                0.0
            } else {
                (prod / (n1 * n2)).max(-1.0).min(1.0).acos()
            }
        }};
        let (a, b) = (self.val(a), self.val(b));
        self.with_scope(|this| {
            this.bind("__matdiff_angle_a".to_owned(), Some(a), false);
            this.bind("__matdiff_angle_b".to_owned(), Some(b), false);
            this.value(&code, None)
        })
    }

    /// `a ⊗ b` of literal sizes, from its entries: `(a ⊗ b)[(i p + k, j q + l)] = a_ij b_kl`
    /// for a `p x q` matrix `b`, each the product nalgebra computes.
    fn lower_kronecker(&mut self, call: &syn::ExprMethodCall, a: Id, b: Id) -> Option<Id> {
        let span = call.span();
        let (ta, tb) = (self.graph().ty(a).clone(), self.graph().ty(b).clone());
        let (Ty::Mat(Dim::Lit(m), Dim::Lit(n)), Ty::Mat(Dim::Lit(p), Dim::Lit(q))) = (&ta, &tb)
        else {
            self.cx.error_spanned_by(
                call,
                format!(
                    "`.kronecker()` needs matrices of literal sizes (its size is the product of \
                     theirs, which a const generic cannot name), found a {} and a {}; give \
                     both literal sizes",
                    ta.describe(),
                    tb.describe()
                ),
            );
            return None;
        };
        let (m, n, p, q) = (*m, *n, *p, *q);
        let mut entries = Vec::with_capacity(m * n * p * q);
        for column in 0..n * q {
            for row in 0..m * p {
                let g = self.g();
                let x = g.add(Op::Index(row / p, column / q), &[a], span);
                let y = g.add(Op::Index(row % p, column % q), &[b], span);
                entries.push(g.add(Op::Mul, &[x, y], span));
            }
        }
        let ty = Ty::Mat(Dim::Lit(m * p), Dim::Lit(n * q));
        Some(self.g().add_typed(Op::Assemble, &entries, ty, span))
    }

    pub(super) fn expect_args(&self, call: &syn::ExprMethodCall, arity: usize) -> bool {
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

    /// A matrix method on the value of a call to another differentiated function, which the
    /// macro took for a scalar: it cannot see the callee's return type.
    fn untyped_matrix_call(&self, call: &syn::ExprMethodCall, callee: usize) {
        let path = &self.graph().callees[callee].path;
        let name = quote::quote!(#path).to_string().replace(' ', "");
        self.cx.error_spanned_by(
            &call.method,
            format!(
                "`.{}()` is a matrix method, but matdiff takes the value of `{name}(..)` for a \
                 scalar: it cannot see another function's return type; if `{name}` returns a \
                 matrix, give the value its type, as in `let r: SVector<f64, 3> = {name}(..);`",
                call.method
            ),
        );
    }

    /// The error for a method the receiver does not have: the receiver kind it belongs to
    /// instead, if any, and the supported methods. `what` names the receiver.
    pub(super) fn unknown_method(
        &self,
        call: &syn::ExprMethodCall,
        receiver: Receiver,
        what: &str,
    ) {
        let name = call.method.to_string();
        let message = match receiver {
            R::Integer => {
                let mut items = vec!["arithmetic".to_owned(), "comparisons".to_owned()];
                items.extend(usages(R::Integer));
                items.push("`as f64`".to_owned());
                format!(
                    "unsupported method `.{name}()` on an integer; integers support {}",
                    english_list(&items)
                )
            }
            R::Iterator => format!(
                "unsupported iterator method `.{name}()`; supported are {}",
                supported(R::Iterator)
            ),
            R::Scalar | R::Matrix | R::ConstantArray => {
                let (other, other_kind, listed) = match receiver {
                    R::Scalar => (R::Matrix, "a matrix", "scalar methods"),
                    _ => (R::Scalar, "a scalar", "matrix and vector methods"),
                };
                let hint = if has(&name, other) {
                    format!("`.{name}()` is {other_kind} method but the receiver is {what}; ")
                } else {
                    format!("unsupported method `.{name}()` on {what}; ")
                };
                format!("{hint}the supported {listed} are {}", supported(receiver))
            }
        };
        self.cx.error_spanned_by(&call.method, message);
    }
}

#[cfg(test)]
mod tests {
    use super::{has, scalar_function_path, supported, Receiver, METHODS};
    use std::collections::BTreeSet;

    /// A method is found by its name and receiver: a second entry for both would never be used.
    #[test]
    fn each_method_is_in_the_table_once() {
        let mut seen = BTreeSet::new();
        for method in METHODS {
            let key = (method.name, format!("{:?}", method.receiver()));
            assert!(
                seen.insert(key),
                "`.{}()` is in the table twice",
                method.name
            );
        }
    }

    #[test]
    fn the_table_drives_lookups_and_messages() {
        assert!(has("norm", Receiver::Matrix) && !has("norm", Receiver::Scalar));
        assert!(has("max", Receiver::Matrix) && has("max", Receiver::Scalar));
        assert_eq!(supported(Receiver::Integer), "`.min(k)` and `.max(k)`");
        assert_eq!(supported(Receiver::ConstantArray), "`.len()` and `.iter()`");
        let path = |text: &str| syn::parse_str::<syn::Path>(text).expect("a path");
        assert!(scalar_function_path(&path("f64::exp")).is_some());
        assert!(scalar_function_path(&path("f32::tanh")).is_some());
        assert!(scalar_function_path(&path("f64::powi")).is_none());
        assert!(scalar_function_path(&path("f64::norm")).is_none());
    }
}
