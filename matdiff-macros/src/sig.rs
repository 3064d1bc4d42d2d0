//! The user's signature: which parameters there are, how they are passed, their static shapes.
//!
//! Every problem is recorded in a [`Ctxt`], so one build reports all of them. Where the
//! signature is still clear enough to write the generated functions' signatures, a
//! [`Signature`] is returned anyway (unsupported types become placeholders) for the fallback's
//! stubs, so that the user's callers type-check and only the real errors show.

use crate::args::Args;
use crate::ctxt::Ctxt;
use crate::types::{Dim, Elem, Ty};
use proc_macro2::{Ident, Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::{FnArg, GenericArgument, GenericParam, ItemFn, Pat, PathArguments, ReturnType, Type};

const ACCEPTED_TYPES: &str = "`f64`, `f32`, `SMatrix<f64, R, C>`, `SVector<f64, N>`, \
     `RowSVector<f64, N>` and nalgebra's aliases such as `Matrix3<f64>`, `Matrix2x3<f64>`, \
     `Vector3<f64>`, `RowVector3<f64>`, taken by value or by `&`";

pub struct Signature<'a> {
    pub func: &'a ItemFn,
    pub params: Vec<Param<'a>>,
    /// Indices into `params`, in the order of the attribute's `wrt`.
    pub wrt: Vec<usize>,
    pub elem: Elem,
    /// The type of the function's value: a scalar (gradients, Hessians) or a matrix
    /// (Jacobians, JVPs, VJPs).
    pub output: Ty,
    /// In an `impl` block: said by the attribute's `associated`, or shown by a `self`
    /// parameter (rejected, but its stubs must still be valid in the `impl`).
    pub associated: bool,
    /// The path generated code names matdiff by (`::matdiff`, or the attribute's `crate`).
    pub krate: syn::Path,
}

pub struct Param<'a> {
    pub ident: Ident,
    pub by_ref: bool,
    pub ty: Ty,
    /// The type as the user wrote it (`&SVector<f64, 3>`).
    pub written: &'a Type,
    /// The type without the reference (`SVector<f64, 3>`): what a gradient returns.
    pub value_type: &'a Type,
}

impl<'a> Signature<'a> {
    /// The signature, or every problem with it combined into one error (for tests: the
    /// macro itself recovers from errors).
    #[cfg(test)]
    pub fn from_syn(func: &'a ItemFn, args: &Args) -> syn::Result<Self> {
        let cx = Ctxt::new();
        let sig = Signature::parse_recovering(&cx, func, args);
        cx.check()?;
        sig.ok_or_else(|| {
            syn::Error::new(
                func.sig.ident.span(),
                "matdiff internal error, please report it: no signature and no error",
            )
        })
    }

    /// Records every problem in `cx`. Returns the signature even then, with placeholder shapes
    /// for unsupported types, unless no stub could have the right signature: a `wrt` name
    /// that is not a parameter, or `impl Trait` in a parameter or the return type.
    pub fn parse_recovering(cx: &Ctxt, func: &'a ItemFn, args: &Args) -> Option<Self> {
        check_fn_kind(cx, func);
        reject_type_generics(cx, func);
        // A type using a type parameter is reported once, at the parameter's declaration.
        let type_params: Vec<Ident> = func
            .sig
            .generics
            .type_params()
            .map(|t| t.ident.clone())
            .collect();
        let (elem, output) = return_elem(cx, func, &type_params);
        let mut params = Vec::new();
        // A stub cannot return `impl Trait`: its `unreachable!()` body implements nothing.
        let mut stubbable =
            !matches!(&func.sig.output, ReturnType::Type(_, ty) if contains_impl_trait(ty));
        for (k, input) in func.sig.inputs.iter().enumerate() {
            let in_wrt = |ident: &Ident| args.wrt.contains(ident);
            let (param, param_elem) = parse_param(cx, k, input, &type_params, in_wrt);
            stubbable &= !contains_impl_trait(param.written);
            if let (Some(elem), Some(param_elem)) = (elem, param_elem) {
                check_elem(cx, input, elem, param_elem);
            }
            params.push(param);
        }
        let wrt = resolve_wrt(cx, &params, args)?;
        stubbable.then_some(Signature {
            func,
            params,
            wrt,
            elem: elem.unwrap_or(Elem::F64),
            output: output.unwrap_or(Ty::Scalar),
            associated: args.associated || func.sig.receiver().is_some(),
            krate: args.krate.clone(),
        })
    }

    pub fn wrt_params(&self) -> impl Iterator<Item = &Param<'a>> {
        self.wrt.iter().map(|&k| &self.params[k])
    }
}

pub fn elem_name(elem: Elem) -> &'static str {
    match elem {
        Elem::F32 => "f32",
        Elem::F64 => "f64",
    }
}

fn check_fn_kind(cx: &Ctxt, func: &ItemFn) {
    let sig = &func.sig;
    let unsupported = |tokens: &dyn ToTokens, what: &str, why: &str| {
        cx.error_spanned_by(
            tokens.to_token_stream(),
            format!("`#[differentiate]` does not support {what}: {why}; apply it to a plain `fn`"),
        );
    };
    if let Some(token) = &sig.constness {
        unsupported(
            token,
            "`const fn`",
            "the generated derivatives call methods that are not `const`",
        );
    }
    if let Some(token) = &sig.asyncness {
        unsupported(
            token,
            "`async fn`",
            "a differentiated function is a plain computation with nothing to await",
        );
    }
    if let Some(token) = &sig.unsafety {
        unsupported(
            token,
            "`unsafe fn`",
            "a differentiated body has no unsafe operations",
        );
    }
    if let Some(abi) = &sig.abi {
        unsupported(
            abi,
            "`extern` functions",
            "the generated derivatives use the Rust ABI",
        );
    }
}

fn reject_type_generics(cx: &Ctxt, func: &ItemFn) {
    for param in &func.sig.generics.params {
        match param {
            GenericParam::Const(_) | GenericParam::Lifetime(_) => (),
            GenericParam::Type(t) => cx.error_spanned_by(
                t,
                "type parameters are not supported: matdiff needs a concrete element type \
                 (`f64` or `f32`); const generic dimensions such as `const N: usize` are \
                 supported",
            ),
        }
    }
}

/// A parameter, and its element type if its type is supported. Unsupported parts are reported
/// and replaced by placeholders (a scalar shape, a made-up name for a pattern).
fn parse_param<'a>(
    cx: &Ctxt,
    k: usize,
    input: &'a FnArg,
    type_params: &[Ident],
    in_wrt: impl Fn(&Ident) -> bool,
) -> (Param<'a>, Option<Elem>) {
    let (ident, written) = match input {
        FnArg::Receiver(receiver) => {
            cx.error_spanned_by(
                receiver,
                "methods are not supported: `#[differentiate]` applies to functions without \
                 `self`; take the value as an ordinary parameter, such as \
                 `x: &SVector<f64, 3>`",
            );
            let ident = Ident::new("self", receiver.self_token.span);
            let param = placeholder(ident, &receiver.ty);
            return (param, None);
        }
        FnArg::Typed(typed) => (param_ident(cx, k, &typed.pat), &*typed.ty),
    };
    let (by_ref, value_type) = match written {
        Type::Reference(reference) if reference.mutability.is_none() => (true, &*reference.elem),
        Type::Reference(reference) => {
            cx.error_spanned_by(
                reference,
                "`&mut` parameters are not supported; take the parameter by `&` or by value",
            );
            return (placeholder(ident, written), None);
        }
        other => (false, other),
    };
    if let Some(ty) = integer_or_bool(value_type) {
        if in_wrt(&ident) {
            let what = if ty == Ty::Int {
                "an integer"
            } else {
                "a `bool`"
            };
            cx.error_spanned_by(
                written,
                format!(
                    "cannot differentiate with respect to `{ident}`: it is {what}, which has no \
                     derivative; remove it from `wrt`"
                ),
            );
        }
        let param = Param {
            ident,
            by_ref,
            ty,
            written,
            value_type,
        };
        return (param, None);
    }
    let (elem, ty) = match classify_type(value_type) {
        Ok(parsed) => parsed,
        Err(_) if mentions(value_type, type_params) => return (placeholder(ident, written), None),
        Err(problem) => {
            let message = param_type_message(&ident, value_type, problem, in_wrt(&ident));
            cx.error_spanned_by(written, message);
            return (placeholder(ident, written), None);
        }
    };
    let param = Param {
        ident,
        by_ref,
        ty,
        written,
        value_type,
    };
    (param, Some(elem))
}

/// `Ty::Int` for Rust's integer types, `Ty::Bool` for `bool`: parameters that are never
/// differentiated.
fn integer_or_bool(ty: &Type) -> Option<Ty> {
    let Type::Path(path) = ty else {
        return None;
    };
    let name = path.path.get_ident()?.to_string();
    match name.as_str() {
        "usize" | "isize" | "u8" | "u16" | "u32" | "u64" | "i8" | "i16" | "i32" | "i64" => {
            Some(Ty::Int)
        }
        "bool" => Some(Ty::Bool),
        _ => None,
    }
}

/// The parameter's name; a pattern is reported and gets a made-up name, which only stubs see.
fn param_ident(cx: &Ctxt, k: usize, pat: &Pat) -> Ident {
    match pat {
        Pat::Ident(pat) if pat.by_ref.is_none() && pat.subpat.is_none() => pat.ident.clone(),
        other => {
            cx.error_spanned_by(
                other,
                "patterns are not supported in parameters of a differentiated function; \
                 use a plain name such as `x`",
            );
            Ident::new(&format!("__matdiff_arg{k}"), Span::mixed_site())
        }
    }
}

/// A parameter whose type is not understood, kept so the fallback's stubs can take it.
fn placeholder(ident: Ident, written: &Type) -> Param<'_> {
    let value_type = match written {
        Type::Reference(reference) => &*reference.elem,
        other => other,
    };
    Param {
        ident,
        by_ref: matches!(written, Type::Reference(_)),
        ty: Ty::Scalar,
        written,
        value_type,
    }
}

fn param_type_message(
    ident: &Ident,
    value_type: &Type,
    problem: TypeProblem,
    in_wrt: bool,
) -> String {
    let name = type_name(value_type);
    match problem {
        TypeProblem::Specific(message) => message,
        TypeProblem::ImplTrait => format!(
            "`impl Trait` parameters are not supported: matdiff needs the concrete type to \
             know the shape; use one of {ACCEPTED_TYPES}"
        ),
        TypeProblem::NotMatdiff if in_wrt => format!(
            "cannot differentiate with respect to `{ident}`: its type `{name}` is not a float \
             scalar or matrix; matdiff accepts {ACCEPTED_TYPES}{}",
            type_hint(value_type)
        ),
        TypeProblem::NotMatdiff => format!(
            "unsupported parameter type `{name}`: every parameter of a differentiated \
             function, also one not in `wrt`, must be one of {ACCEPTED_TYPES}{}",
            type_hint(value_type)
        ),
    }
}

/// A hint for a type that is close to an accepted one: an array, or a type alias that hides
/// the shape.
fn type_hint(ty: &Type) -> String {
    match ty {
        Type::Array(array) => format!(
            "; for an array, take `SVector<{}, {}>` instead",
            type_name(&array.elem),
            tokens_name(array.len.to_token_stream())
        ),
        Type::Path(path) => {
            let Some(last) = path.path.segments.last() else {
                return String::new();
            };
            let name = last.ident.to_string();
            let std_type = matches!(
                name.as_str(),
                "Vec" | "Option" | "Box" | "Rc" | "Arc" | "String" | "Self" | "Cow"
            );
            if name.starts_with(char::is_uppercase) && !std_type {
                "; matdiff reads the shape from the type as written, so a type alias of your \
                 own must be replaced by the nalgebra type"
                    .to_owned()
            } else {
                String::new()
            }
        }
        _ => String::new(),
    }
}

fn check_elem(cx: &Ctxt, input: &FnArg, elem: Elem, param_elem: Elem) {
    if param_elem != elem {
        cx.error_spanned_by(
            input,
            format!(
                "this parameter's element type is `{}` but the function returns `{}`; \
                 matdiff needs one element type throughout",
                elem_name(param_elem),
                elem_name(elem)
            ),
        );
    }
}

fn return_elem(cx: &Ctxt, func: &ItemFn, type_params: &[Ident]) -> (Option<Elem>, Option<Ty>) {
    let name = &func.sig.ident;
    let ReturnType::Type(_, ty) = &func.sig.output else {
        let sig = &func.sig;
        // From `fn` to the parameters' closing parenthesis, where `-> f64` goes.
        let fn_token = &sig.fn_token;
        let mut tokens = quote::quote!(#fn_token #name);
        sig.paren_token
            .surround(&mut tokens, |tokens| sig.inputs.to_tokens(tokens));
        cx.error_spanned_by(
            tokens,
            format!(
                "`{name}` has no return type; a differentiated function returns its value as a \
                 scalar `f64` or `f32` (the loss) or a matrix such as `SVector<f64, 3>` (a \
                 residual): write `-> f64`"
            ),
        );
        return (None, None);
    };
    match classify_type(ty) {
        Ok((elem, ty @ (Ty::Scalar | Ty::Mat(..)))) => (Some(elem), Some(ty)),
        _ if mentions(ty, type_params) => (None, None),
        _ => {
            cx.error_spanned_by(
                ty,
                format!(
                    "a differentiated function must return a scalar `f64` or `f32` (the loss) \
                     or a statically sized matrix such as `SVector<f64, 3>` (a residual), \
                     found `{}`",
                    type_name(ty)
                ),
            );
            (None, None)
        }
    }
}

fn resolve_wrt(cx: &Ctxt, params: &[Param], args: &Args) -> Option<Vec<usize>> {
    let mut indices = Vec::new();
    let mut resolved = true;
    for name in &args.wrt {
        if let Some(k) = params.iter().position(|p| &p.ident == name) {
            indices.push(k);
            continue;
        }
        let names: Vec<String> = params
            .iter()
            .filter(|p| !p.ident.to_string().starts_with("__matdiff"))
            .map(|p| format!("`{}`", p.ident))
            .collect();
        let listed = if names.is_empty() {
            "the function has none".to_owned()
        } else {
            format!("the parameters are {}", names.join(", "))
        };
        cx.error_at(
            name.span(),
            format!("`wrt` names `{name}`, which is not a parameter; {listed}"),
        );
        resolved = false;
    }
    resolved.then_some(indices)
}

/// Why a type is not accepted.
enum TypeProblem {
    /// Not a float or nalgebra matrix type at all.
    NotMatdiff,
    ImplTrait,
    /// A matrix type with a problem the message names.
    Specific(String),
}

/// The element type and shape of a parameter type, or a message listing the accepted types.
pub fn parse_type(ty: &Type) -> Result<(Elem, Ty), String> {
    classify_type(ty).map_err(|problem| match problem {
        TypeProblem::Specific(message) => message,
        TypeProblem::NotMatdiff | TypeProblem::ImplTrait => format!(
            "unsupported type `{}`; matdiff accepts {ACCEPTED_TYPES}",
            type_name(ty)
        ),
    })
}

fn classify_type(ty: &Type) -> Result<(Elem, Ty), TypeProblem> {
    let path = match ty {
        Type::Path(path) if path.qself.is_none() => path,
        Type::Paren(paren) => return classify_type(&paren.elem),
        Type::Group(group) => return classify_type(&group.elem),
        Type::ImplTrait(_) => return Err(TypeProblem::ImplTrait),
        _ => return Err(TypeProblem::NotMatdiff),
    };
    let segment = path.path.segments.last().ok_or(TypeProblem::NotMatdiff)?;
    if elem_of_name(&segment.ident.to_string()).is_none() && !is_matrix_name(&segment.ident) {
        return Err(TypeProblem::NotMatdiff);
    }
    match shape_of_segment(segment).map_err(TypeProblem::Specific)? {
        (Some(elem), Some(ty)) => Ok((elem, ty)),
        _ => Err(TypeProblem::Specific(format!(
            "`{}` needs its element type, as in `{}<f64>`",
            segment.ident, segment.ident
        ))),
    }
}

pub fn is_matrix_name(ident: &Ident) -> bool {
    let name = ident.to_string();
    matches!(name.as_str(), "SMatrix" | "SVector" | "RowSVector") || alias_shape(&name).is_some()
}

/// What a type's last path segment says about element type and shape; `None` for a part
/// the segment leaves out (`SMatrix::identity()` names neither).
pub fn shape_of_segment(segment: &syn::PathSegment) -> Result<(Option<Elem>, Option<Ty>), String> {
    let name = segment.ident.to_string();
    let generic = generic_args(&segment.arguments);
    if let Some(elem) = elem_of_name(&name) {
        return Ok((Some(elem), Some(Ty::Scalar)));
    }
    let (fixed, wanted, example): (Option<Ty>, usize, String) = match name.as_str() {
        "SMatrix" => (None, 3, "SMatrix<f64, 2, 3>".to_owned()),
        "SVector" | "RowSVector" => (None, 2, format!("{name}<f64, 3>")),
        _ => match alias_shape(&name) {
            Some(ty) => (Some(ty), 1, format!("{name}<f64>")),
            None => {
                return Err(format!(
                    "`{name}` is not a type matdiff knows; it accepts {ACCEPTED_TYPES}"
                ))
            }
        },
    };
    if generic.is_empty() {
        return Ok((None, fixed));
    }
    let count_message = || {
        let plural = if wanted == 1 { "" } else { "s" };
        format!("`{name}` takes {wanted} generic argument{plural}, as in `{example}`")
    };
    if generic.len() != wanted {
        return Err(count_message());
    }
    let elem = match &generic[0] {
        GenericArgument::Type(Type::Path(p)) => p
            .path
            .get_ident()
            .and_then(|i| elem_of_name(&i.to_string())),
        _ => None,
    }
    .ok_or_else(|| {
        format!(
            "the element type of `{name}` must be `f64` or `f32`, found `{}`",
            tokens_name(generic[0].to_token_stream())
        )
    })?;
    let dims: Vec<Dim> = generic[1..]
        .iter()
        .map(|arg| parse_dim(arg))
        .collect::<Result<_, _>>()?;
    let ty = match (name.as_str(), dims.as_slice()) {
        ("SMatrix", [r, c]) => Ty::Mat(r.clone(), c.clone()),
        ("SVector", [n]) => Ty::Mat(n.clone(), Dim::Lit(1)),
        ("RowSVector", [n]) => Ty::Mat(Dim::Lit(1), n.clone()),
        _ => fixed.ok_or_else(count_message)?,
    };
    Ok((Some(elem), Some(ty)))
}

fn generic_args(arguments: &PathArguments) -> Vec<&GenericArgument> {
    match arguments {
        PathArguments::AngleBracketed(args) => args.args.iter().collect(),
        _ => Vec::new(),
    }
}

fn elem_of_name(name: &str) -> Option<Elem> {
    match name {
        "f64" => Some(Elem::F64),
        "f32" => Some(Elem::F32),
        _ => None,
    }
}

/// The shape named by an alias: `Matrix3`, `Matrix2x3`, `Vector4`, `RowVector2`.
fn alias_shape(name: &str) -> Option<Ty> {
    let small = |s: &str| s.parse::<usize>().ok().filter(|n| (1..=6).contains(n));
    if let Some(rest) = name.strip_prefix("RowVector") {
        return small(rest).map(|n| Ty::mat(1, n));
    }
    if let Some(rest) = name.strip_prefix("Vector") {
        return small(rest).map(|n| Ty::mat(n, 1));
    }
    let rest = name.strip_prefix("Matrix")?;
    match rest.split_once('x') {
        Some((r, c)) => Some(Ty::mat(small(r)?, small(c)?)),
        None => small(rest).map(|n| Ty::mat(n, n)),
    }
}

/// A dimension: a literal, or the name of an integer constant (a const generic parameter or a
/// `const` in scope), which the generated code names in turn.
fn parse_dim(arg: &GenericArgument) -> Result<Dim, String> {
    let message = || {
        format!(
            "the dimension `{}` must be an integer literal, a const generic parameter or the \
             name of a constant",
            tokens_name(arg.to_token_stream())
        )
    };
    let ident = match arg {
        GenericArgument::Const(syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(n),
            ..
        })) => {
            return n
                .base10_parse::<usize>()
                .map(Dim::Lit)
                .map_err(|_| message())
        }
        GenericArgument::Const(syn::Expr::Path(p)) => p.path.get_ident(),
        GenericArgument::Const(syn::Expr::Block(b)) => match b.block.stmts.as_slice() {
            [syn::Stmt::Expr(syn::Expr::Path(p), None)] => p.path.get_ident(),
            _ => None,
        },
        GenericArgument::Type(Type::Path(p)) => p.path.get_ident(),
        _ => None,
    };
    match ident {
        Some(ident) => Ok(Dim::Param(ident.clone())),
        _ => Err(message()),
    }
}

fn contains_impl_trait(ty: &Type) -> bool {
    contains_ident(ty.to_token_stream(), &|ident| ident == "impl")
}

/// Whether `ty` names one of `idents` anywhere.
fn mentions(ty: &Type, idents: &[Ident]) -> bool {
    contains_ident(ty.to_token_stream(), &|ident| idents.contains(ident))
}

fn contains_ident(tokens: TokenStream, wanted: &dyn Fn(&Ident) -> bool) -> bool {
    tokens.into_iter().any(|tree| match tree {
        TokenTree::Ident(ident) => wanted(&ident),
        TokenTree::Group(group) => contains_ident(group.stream(), wanted),
        _ => false,
    })
}

/// A type as the user would write it: `SVector<f64, 3>`, `&[f64; 3]`.
pub fn type_name(ty: &Type) -> String {
    tokens_name(ty.to_token_stream())
}

/// Tokens printed without the spaces `TokenStream`'s `Display` puts around punctuation.
fn tokens_name(tokens: TokenStream) -> String {
    let spaced = tokens.to_string();
    let mut out = String::with_capacity(spaced.len());
    let chars: Vec<char> = spaced.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c == ' ' {
            let before = i.checked_sub(1).map(|j| chars[j]);
            let after = chars.get(i + 1).copied();
            let glue_before = matches!(before, Some('<' | '&' | '(' | '[' | '!' | ':'));
            let glue_after = matches!(after, Some('<' | '>' | ',' | ';' | ')' | ']' | ':'));
            if glue_before || glue_after {
                continue;
            }
        }
        out.push(c);
    }
    out
}
