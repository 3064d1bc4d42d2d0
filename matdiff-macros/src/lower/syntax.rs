//! Reading syntax: what a piece of the user's code is, without lowering it (an integer
//! literal, an operator, a constructor path, a float constant), and the messages for
//! constructs matdiff never differentiates.

use crate::ops::CmpOp;
use syn::{BinOp, Expr, Lit, UnOp};

pub(super) const UNBOUNDED_LOOP: &str = "`while`, `loop`, `break` and `continue` are not \
     supported: matdiff needs a trip count known at compile time; write a `for` loop over a \
     range such as `0..N` or an iterator chain over a matrix";

pub(super) const STRAIGHT_LINE: &str = "matdiff differentiates `let` bindings, assignments, \
     `if`, `match`, `for` loops with static bounds and iterator chains, ending in the value";

/// The message for a construct matdiff never differentiates, worded for what it is.
pub(super) fn unsupported_expr(expr: &Expr) -> Option<String> {
    let message = match expr {
        Expr::While(_) | Expr::Loop(_) | Expr::Break(_) | Expr::Continue(_) => {
            UNBOUNDED_LOOP.to_owned()
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

/// An arithmetic operator as written. On integers it is integer arithmetic; on floats `*` is
/// a matrix product (or a product by a scalar, by shape), `/` a division by a scalar, and `%`
/// is not supported.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Arith {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

/// The arithmetic of `x op= y` for a compound assignment operator.
pub(super) fn compound_assignment(op: &BinOp) -> Option<Arith> {
    Some(match op {
        BinOp::AddAssign(_) => Arith::Add,
        BinOp::SubAssign(_) => Arith::Sub,
        BinOp::MulAssign(_) => Arith::Mul,
        BinOp::DivAssign(_) => Arith::Div,
        BinOp::RemAssign(_) => Arith::Rem,
        _ => return None,
    })
}

/// The arithmetic operators.
pub(super) fn arithmetic(op: &BinOp) -> Option<Arith> {
    Some(match op {
        BinOp::Add(_) => Arith::Add,
        BinOp::Sub(_) => Arith::Sub,
        BinOp::Mul(_) => Arith::Mul,
        BinOp::Div(_) => Arith::Div,
        BinOp::Rem(_) => Arith::Rem,
        _ => return None,
    })
}

pub(super) fn comparison(op: &BinOp) -> Option<CmpOp> {
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
    matches!(
        name.as_str(),
        "set_column" | "set_row" | "component_mul_assign" | "apply"
    ) || (name == "copy_from"
        && matches!(&*call.receiver, Expr::MethodCall(view) if view.method.to_string().ends_with("_mut")))
}

pub(super) fn sizeless_constructor(expr: &Expr) -> bool {
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

/// `Type::identity`, `Type::zeros`, `Type::new`, `Type::from_fn`, ...: the constructor's name
/// and the type's segment.
pub(super) fn constructor(path: &syn::Path) -> Option<(&'static str, &syn::PathSegment)> {
    let n = path.segments.len();
    if n < 2 {
        return None;
    }
    let kind = match path.segments[n - 1].ident.to_string().as_str() {
        "identity" => "identity",
        "zeros" => "zeros",
        "new" => "new",
        "from_element" => "from_element",
        "repeat" => "repeat",
        "from" => "from",
        "from_column_slice" => "from_column_slice",
        "from_row_slice" => "from_row_slice",
        "from_fn" => "from_fn",
        "from_diagonal" => "from_diagonal",
        "from_diagonal_element" => "from_diagonal_element",
        "from_partial_diagonal" => "from_partial_diagonal",
        "from_columns" => "from_columns",
        "from_rows" => "from_rows",
        "x" => "x",
        "y" => "y",
        "z" => "z",
        "w" => "w",
        "a" => "a",
        "b" => "b",
        _ => return None,
    };
    let segment = &path.segments[n - 2];
    // `layers::new(..)` is a call of a function named `new`, not a constructor.
    let ty = segment.ident.to_string();
    let matrix = [
        "SMatrix",
        "SVector",
        "RowSVector",
        "Matrix",
        "Vector",
        "RowVector",
    ]
    .iter()
    .any(|prefix| ty.starts_with(prefix));
    (matrix || matches!(kind, "identity" | "zeros")).then_some((kind, segment))
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
pub(super) fn is_constant_name(ident: &proc_macro2::Ident) -> bool {
    let name = ident.to_string();
    name.chars().any(|c| c.is_ascii_uppercase())
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// `f64::ln(x)`, `f32::max(a, b)`, ... as the method calls `x.ln()`, `a.max(b)`.
pub(super) fn float_function_call(
    path: &syn::ExprPath,
    call: &syn::ExprCall,
) -> Option<syn::ExprMethodCall> {
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
pub(super) fn try_inverse_receiver(call: &syn::ExprMethodCall) -> Option<&syn::ExprMethodCall> {
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
pub(super) fn string_args(call: &syn::ExprMethodCall) -> Option<Vec<String>> {
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

/// `std::f64::consts::PI`, `f64::consts::E`, `core::f32::consts::TAU`, `f64::INFINITY`, ...
pub(super) fn float_constant(path: &syn::Path) -> Option<f64> {
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
                "MIN_POSITIVE" if float == "f64" => Some(f64::MIN_POSITIVE),
                "MAX" => Some(f64::from(f32::MAX)),
                "MIN" => Some(f64::from(f32::MIN)),
                "EPSILON" => Some(f64::from(f32::EPSILON)),
                "MIN_POSITIVE" => Some(f64::from(f32::MIN_POSITIVE)),
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

/// Whether an `if` without `else` (or whose every branch) ends in `return`.
pub(super) fn returns_early(branch: &syn::ExprIf) -> bool {
    let ends_in_return = |block: &syn::Block| {
        matches!(
            block.stmts.last(),
            Some(syn::Stmt::Expr(Expr::Return(_), _))
        )
    };
    ends_in_return(&branch.then_branch)
}

/// The variables that carry an early `return` out of a loop (see [`guard_returns`]); the
/// reserved prefix keeps them apart from the user's names.
pub(super) const RETURNED: &str = "__matdiff_returned";
pub(super) const RETURN_VALUE: &str = "__matdiff_return_value";

/// Whether the statement `expr` contains a `return` (outside closures).
pub(super) fn expr_contains_return(expr: &Expr) -> bool {
    let block = syn::Block {
        brace_token: Default::default(),
        stmts: vec![syn::Stmt::Expr(expr.clone(), None)],
    };
    contains_return(&block)
}

/// Whether `block` contains a `return` (outside closures).
pub(super) fn contains_return(block: &syn::Block) -> bool {
    struct Finder(bool);
    impl<'ast> syn::visit::Visit<'ast> for Finder {
        fn visit_expr_return(&mut self, _: &'ast syn::ExprReturn) {
            self.0 = true;
        }
        fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
    }
    let mut finder = Finder(false);
    syn::visit::Visit::visit_block(&mut finder, block);
    finder.0
}

/// A loop whose body may `return`, rewritten to record the return instead: `return e` becomes
/// `{ RETURN_VALUE = e; RETURNED = true; }`, and every statement after one that may return, and
/// every later iteration, runs only `if !RETURNED`. The caller declares the two variables
/// before the loop and, after it, gives `RETURN_VALUE` when `RETURNED`.
pub(super) fn guard_returns(for_loop: &syn::ExprForLoop) -> syn::ExprForLoop {
    let mut guarded = for_loop.clone();
    guarded.body = guard_iteration(&for_loop.body);
    guarded
}

/// `{ if !RETURNED { body, guarded } }`.
fn guard_iteration(body: &syn::Block) -> syn::Block {
    let returned = syn::Ident::new(RETURNED, proc_macro2::Span::call_site());
    let inner = guard_block(body);
    syn::parse_quote!({
        if !#returned #inner
    })
}

fn guard_block(block: &syn::Block) -> syn::Block {
    syn::Block {
        brace_token: block.brace_token,
        stmts: guard_stmts(&block.stmts),
    }
}

fn guard_stmts(stmts: &[syn::Stmt]) -> Vec<syn::Stmt> {
    let returns = |stmt: &syn::Stmt| {
        let block = syn::Block {
            brace_token: Default::default(),
            stmts: vec![stmt.clone()],
        };
        contains_return(&block)
    };
    let Some(i) = stmts.iter().position(returns) else {
        return stmts.to_vec();
    };
    let mut out = stmts[..i].to_vec();
    out.push(guard_stmt(&stmts[i]));
    if i + 1 < stmts.len() {
        let returned = syn::Ident::new(RETURNED, proc_macro2::Span::call_site());
        let rest = syn::Block {
            brace_token: Default::default(),
            stmts: guard_stmts(&stmts[i + 1..]),
        };
        out.push(syn::parse_quote!(if !#returned #rest));
    }
    out
}

fn guard_stmt(stmt: &syn::Stmt) -> syn::Stmt {
    let syn::Stmt::Expr(expr, semi) = stmt else {
        return stmt.clone();
    };
    syn::Stmt::Expr(guard_expr(expr), *semi)
}

/// `return e` recorded; `if`, blocks and loops guarded inside; anything else unchanged (a
/// `return` in it is reported where it is lowered).
pub(super) fn guard_expr(expr: &Expr) -> Expr {
    let (returned, value) = (
        syn::Ident::new(RETURNED, proc_macro2::Span::call_site()),
        syn::Ident::new(RETURN_VALUE, proc_macro2::Span::call_site()),
    );
    match expr {
        Expr::Return(syn::ExprReturn {
            expr: Some(returned_value),
            ..
        }) => syn::parse_quote!({
            #value = #returned_value;
            #returned = true;
        }),
        Expr::If(branch) => {
            let mut branch = branch.clone();
            branch.then_branch = guard_block(&branch.then_branch);
            if let Some((_, other)) = &mut branch.else_branch {
                **other = guard_expr(other);
            }
            Expr::If(branch)
        }
        Expr::Block(block) => {
            let mut block = block.clone();
            block.block = guard_block(&block.block);
            Expr::Block(block)
        }
        Expr::ForLoop(for_loop) => Expr::ForLoop(guard_returns(for_loop)),
        other => other.clone(),
    }
}
