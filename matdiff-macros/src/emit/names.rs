//! What generated code is made of below the level of a node: the names of values (hygienic,
//! per nesting depth), their Rust types, literals.

use crate::types::{Dim, Elem, Id, SymInt, Ty};
use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::quote;

pub(super) fn elem_type(elem: Elem) -> TokenStream {
    match elem {
        Elem::F32 => quote!(f32),
        Elem::F64 => quote!(f64),
    }
}

thread_local! {
    /// How deeply the region being written is nested in loops and branches: the names of a
    /// region's values carry it, so a body never shadows a value of the block around it.
    static DEPTH: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

pub(super) fn var(id: Id) -> Ident {
    let name = match DEPTH.with(std::cell::Cell::get) {
        0 => format!("__t{}", id.index()),
        depth => format!("__t{depth}_{}", id.index()),
    };
    Ident::new(&name, Span::mixed_site())
}

/// A name of the code around a region body at the current depth (`__s1_0`, `__k1`, ...).
pub(super) fn depth_name(prefix: &str, index: Option<usize>) -> Ident {
    let depth = DEPTH.with(std::cell::Cell::get);
    let name = match index {
        Some(index) => format!("{prefix}{depth}_{index}"),
        None => format!("{prefix}{depth}"),
    };
    Ident::new(&name, Span::mixed_site())
}

/// Runs `write` one nesting level deeper.
pub(super) fn nested<T>(write: impl FnOnce() -> T) -> T {
    DEPTH.with(|d| d.set(d.get() + 1));
    let result = write();
    DEPTH.with(|d| d.set(d.get() - 1));
    result
}

pub(super) fn closure_var(id: Id) -> Ident {
    Ident::new(&format!("__c{}", id.index()), Span::mixed_site())
}

/// A name of the current depth for node `id` (`__acc3`, `__acc1_3`).
pub(super) fn var_named(prefix: &str, id: Id) -> Ident {
    let name = match DEPTH.with(std::cell::Cell::get) {
        0 => format!("{prefix}{}", id.index()),
        depth => format!("{prefix}{depth}_{}", id.index()),
    };
    Ident::new(&name, Span::mixed_site())
}

/// Matrices and tapes are bound by reference (no copy); scalars, integers, conditions and
/// tuples by value.
pub(super) fn by_reference(ty: &Ty) -> bool {
    matches!(ty, Ty::Mat(..) | Ty::Array(..))
}

/// The type of a value: the element type, or nalgebra's `SMatrix` (imported in every
/// generated body as `__SMatrix`).
pub(super) fn value_type(elem: Elem, ty: &Ty) -> TokenStream {
    let elem_tokens = elem_type(elem);
    match ty {
        Ty::Scalar => elem_tokens,
        Ty::Mat(r, c) => {
            let (r, c) = (dim(r), dim(c));
            quote!(__SMatrix<#elem_tokens, #r, #c>)
        }
        // An integer in a tuple is left to inference: a call's derivative has the callee's
        // integer type (`usize`) where the caller computes in `i64`.
        Ty::Tuple(items) => {
            let items = items.iter().map(|ty| match ty {
                Ty::Int => quote!(_),
                ty => value_type(elem, ty),
            });
            quote!((#(#items,)*))
        }
        Ty::Int => quote!(i64),
        Ty::Bool => quote!(bool),
        Ty::Array(item, n) => {
            let (item, n) = (value_type(elem, item), capacity_tokens(n));
            quote!([#item; #n])
        }
    }
}

pub(super) fn dim(d: &Dim) -> TokenStream {
    match d {
        Dim::Lit(n) => {
            let n = Literal::usize_unsuffixed(*n);
            quote!(#n)
        }
        Dim::Param(ident) => quote!(#ident),
    }
}

/// A tape's length as an array length: a literal, a bare const generic, or `DATA.len()`.
pub(super) fn capacity_tokens(capacity: &SymInt) -> TokenStream {
    match capacity {
        SymInt::Lit(n) => {
            let n = Literal::usize_unsuffixed(usize::try_from(*n).unwrap_or(0));
            quote!(#n)
        }
        SymInt::Name(name) => quote!(#name),
        SymInt::Len(name) => quote!(#name.len()),
        other => unreachable!("`tape_capacity` gives no capacity {other}"),
    }
}

pub(super) fn zero_value(elem: Elem, ty: &Ty) -> TokenStream {
    match ty {
        Ty::Scalar => literal(elem, 0.0),
        Ty::Int => quote!(0i64),
        Ty::Bool => quote!(false),
        other => {
            let ty = value_type(elem, other);
            quote!(<#ty>::zeros())
        }
    }
}

/// A name local to a generated block. Mixed-site hygiene keeps it apart from the user's
/// variables, and the `__` prefix from the user's const generics, which a `let` binding
/// cannot shadow whatever its hygiene (`fn f<const m: usize>` and a generated `let m`).
pub(super) fn local(name: &str) -> proc_macro2::Ident {
    proc_macro2::Ident::new(&format!("__{name}"), Span::mixed_site())
}

pub(super) fn literal(elem: Elem, value: f64) -> TokenStream {
    #[allow(
        clippy::cast_possible_truncation,
        reason = "f32 functions use f32 literals"
    )]
    let narrowed = match elem {
        Elem::F32 => f64::from(value as f32),
        Elem::F64 => value,
    };
    // Infinity and NaN (a literal such as `1e400`, or folded from `1e300 * 1e300`) have no
    // literal syntax; `Literal::f64_suffixed` would panic.
    if !narrowed.is_finite() {
        let ty = match elem {
            Elem::F32 => quote!(f32),
            Elem::F64 => quote!(f64),
        };
        return match (narrowed.is_nan(), narrowed.is_sign_negative()) {
            (true, _) => quote!(<#ty>::NAN),
            (false, false) => quote!(<#ty>::INFINITY),
            (false, true) => quote!((-<#ty>::INFINITY)),
        };
    }
    let magnitude = match elem {
        #[allow(
            clippy::cast_possible_truncation,
            reason = "f32 functions use f32 literals"
        )]
        Elem::F32 => Literal::f32_suffixed(value.abs() as f32),
        Elem::F64 => Literal::f64_suffixed(value.abs()),
    };
    if value.is_sign_negative() {
        quote!((-#magnitude))
    } else {
        quote!(#magnitude)
    }
}

/// A symbolic integer as an `i64` expression.
pub(super) fn sym_int(value: &SymInt) -> TokenStream {
    let pair = |a: &SymInt, b: &SymInt| (sym_int(a), sym_int(b));
    match value {
        SymInt::Lit(n) => {
            let n = Literal::i64_suffixed(*n);
            quote!(#n)
        }
        SymInt::Name(name) => quote!((#name as i64)),
        SymInt::Len(name) => quote!((#name.len() as i64)),
        SymInt::Add(a, b) => {
            let (a, b) = pair(a, b);
            quote!((#a + #b))
        }
        SymInt::Sub(a, b) => {
            let (a, b) = pair(a, b);
            quote!((#a - #b))
        }
        SymInt::Mul(a, b) => {
            let (a, b) = pair(a, b);
            quote!((#a * #b))
        }
        SymInt::Div(a, b) => {
            let (a, b) = pair(a, b);
            quote!((#a / #b))
        }
        SymInt::Rem(a, b) => {
            let (a, b) = pair(a, b);
            quote!((#a % #b))
        }
        SymInt::Min(a, b) => {
            let (a, b) = pair(a, b);
            quote!(::core::cmp::min(#a, #b))
        }
        SymInt::Max(a, b) => {
            let (a, b) = pair(a, b);
            quote!(::core::cmp::max(#a, #b))
        }
    }
}
