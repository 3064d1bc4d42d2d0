//! The user's signature: which parameters there are, how they are passed, their static shapes.

use crate::args::Args;
use crate::ir::{Dim, Elem, Ty};
use proc_macro2::Ident;
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
    /// The const generic parameters, the only names a dimension may use.
    pub consts: Vec<Ident>,
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
    pub fn from_syn(func: &'a ItemFn, args: &Args) -> syn::Result<Self> {
        check_fn_kind(func)?;
        let consts = const_generics(func)?;
        let mut params = Vec::new();
        let mut elems = Vec::new();
        for input in &func.sig.inputs {
            let (param, elem) = parse_param(input, &consts)?;
            params.push(param);
            elems.push((elem, input));
        }
        let elem = return_elem(func)?;
        for (param_elem, input) in elems {
            if param_elem != elem {
                return Err(syn::Error::new_spanned(
                    input,
                    format!(
                        "this parameter's element type is `{}` but the function returns `{}`; \
                         matdiff needs one element type throughout",
                        elem_name(param_elem),
                        elem_name(elem)
                    ),
                ));
            }
        }
        let wrt = resolve_wrt(&params, args)?;
        Ok(Signature {
            func,
            params,
            wrt,
            elem,
            consts,
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

fn check_fn_kind(func: &ItemFn) -> syn::Result<()> {
    let sig = &func.sig;
    let unsupported = |tokens: &dyn quote::ToTokens, what: &str| {
        Err(syn::Error::new_spanned(
            tokens,
            format!("`#[differentiate]` does not support {what}; apply it to a plain `fn`"),
        ))
    };
    if let Some(token) = &sig.asyncness {
        return unsupported(token, "`async fn`");
    }
    if let Some(token) = &sig.constness {
        return unsupported(token, "`const fn`");
    }
    if let Some(token) = &sig.unsafety {
        return unsupported(token, "`unsafe fn`");
    }
    if let Some(abi) = &sig.abi {
        return unsupported(abi, "`extern` functions");
    }
    if let Some(variadic) = &sig.variadic {
        return unsupported(variadic, "variadic functions");
    }
    Ok(())
}

fn const_generics(func: &ItemFn) -> syn::Result<Vec<Ident>> {
    let mut consts = Vec::new();
    for param in &func.sig.generics.params {
        match param {
            GenericParam::Const(c) => consts.push(c.ident.clone()),
            GenericParam::Lifetime(_) => (),
            GenericParam::Type(t) => {
                return Err(syn::Error::new_spanned(
                    t,
                    "type parameters are not supported: matdiff needs a concrete element type \
                     (`f64` or `f32`); const generic dimensions such as `const N: usize` are \
                     supported",
                ))
            }
        }
    }
    Ok(consts)
}

fn parse_param<'a>(input: &'a FnArg, consts: &[Ident]) -> syn::Result<(Param<'a>, Elem)> {
    let typed = match input {
        FnArg::Receiver(receiver) => {
            return Err(syn::Error::new_spanned(
                receiver,
                "methods are not supported: `#[differentiate]` applies to free functions; \
                 take the value as an ordinary parameter instead of `self`",
            ))
        }
        FnArg::Typed(typed) => typed,
    };
    let ident = match &*typed.pat {
        Pat::Ident(pat) if pat.by_ref.is_none() && pat.subpat.is_none() => pat.ident.clone(),
        other => {
            return Err(syn::Error::new_spanned(
                other,
                "patterns are not supported in parameters of a differentiated function; \
                 use a plain name such as `x`",
            ))
        }
    };
    let (by_ref, value_type) = match &*typed.ty {
        Type::Reference(reference) if reference.mutability.is_none() => (true, &*reference.elem),
        Type::Reference(reference) => {
            return Err(syn::Error::new_spanned(
                reference,
                "`&mut` parameters are not supported; take the parameter by `&` or by value",
            ))
        }
        other => (false, other),
    };
    let (elem, ty) = parse_type(value_type, consts)
        .map_err(|message| syn::Error::new_spanned(&typed.ty, message))?;
    let param = Param {
        ident,
        by_ref,
        ty,
        written: &typed.ty,
        value_type,
    };
    Ok((param, elem))
}

fn return_elem(func: &ItemFn) -> syn::Result<Elem> {
    let message = "a differentiated function must return a scalar, `f64` or `f32` (the loss); \
                   its gradient then has the shape of the `wrt` parameter";
    let ReturnType::Type(_, ty) = &func.sig.output else {
        return Err(syn::Error::new_spanned(&func.sig, message));
    };
    match parse_type(ty, &[]) {
        Ok((elem, Ty::Scalar)) => Ok(elem),
        _ => Err(syn::Error::new_spanned(ty, message)),
    }
}

fn resolve_wrt(params: &[Param], args: &Args) -> syn::Result<Vec<usize>> {
    let mut indices = Vec::new();
    for name in &args.wrt {
        let Some(k) = params.iter().position(|p| &p.ident == name) else {
            let names: Vec<String> = params.iter().map(|p| format!("`{}`", p.ident)).collect();
            let listed = if names.is_empty() {
                "the function has none".to_owned()
            } else {
                format!("the parameters are {}", names.join(", "))
            };
            return Err(syn::Error::new(
                name.span(),
                format!("`wrt` names `{name}`, which is not a parameter; {listed}"),
            ));
        };
        indices.push(k);
    }
    Ok(indices)
}

/// The element type and shape of a parameter type, or a message listing the accepted types.
pub fn parse_type(ty: &Type, consts: &[Ident]) -> Result<(Elem, Ty), String> {
    let unsupported = || format!("unsupported parameter type; matdiff accepts {ACCEPTED_TYPES}");
    let Type::Path(path) = ty else {
        return Err(unsupported());
    };
    let segment = path.path.segments.last().ok_or_else(unsupported)?;
    match shape_of_segment(segment, consts)? {
        (Some(elem), Some(ty)) => Ok((elem, ty)),
        _ => Err(unsupported()),
    }
}

/// What a type's last path segment says about element type and shape; `None` for a part
/// the segment leaves out (`SMatrix::identity()` names neither).
pub fn shape_of_segment(
    segment: &syn::PathSegment,
    consts: &[Ident],
) -> Result<(Option<Elem>, Option<Ty>), String> {
    let name = segment.ident.to_string();
    let generic = generic_args(&segment.arguments);
    if let Some(elem) = elem_of_name(&name) {
        return Ok((Some(elem), Some(Ty::Scalar)));
    }
    let (fixed, wanted): (Option<Ty>, usize) = match name.as_str() {
        "SMatrix" => (None, 3),
        "SVector" | "RowSVector" => (None, 2),
        _ => match alias_shape(&name) {
            Some(ty) => (Some(ty), 1),
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
    if generic.len() != wanted {
        return Err(format!("`{name}` takes {wanted} generic arguments"));
    }
    let elem = match &generic[0] {
        GenericArgument::Type(Type::Path(p)) => p
            .path
            .get_ident()
            .and_then(|i| elem_of_name(&i.to_string())),
        _ => None,
    }
    .ok_or_else(|| format!("the element type of `{name}` must be `f64` or `f32`"))?;
    let dims: Vec<Dim> = generic[1..]
        .iter()
        .map(|arg| parse_dim(arg, consts))
        .collect::<Result<_, _>>()?;
    let ty = match (name.as_str(), dims.as_slice()) {
        ("SMatrix", [r, c]) => Ty::Mat(r.clone(), c.clone()),
        ("SVector", [n]) => Ty::Mat(n.clone(), Dim::Lit(1)),
        ("RowSVector", [n]) => Ty::Mat(Dim::Lit(1), n.clone()),
        _ => fixed.ok_or_else(|| format!("`{name}` takes {wanted} generic arguments"))?,
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

fn parse_dim(arg: &GenericArgument, consts: &[Ident]) -> Result<Dim, String> {
    let message = || {
        "a dimension must be an integer literal or a const generic parameter of the function"
            .to_owned()
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
        Some(ident) if consts.contains(ident) => Ok(Dim::Param(ident.clone())),
        _ => Err(message()),
    }
}
