//! What the emitter writes for fused nodes (`emit/fuse.rs`): one test per fusion, on the text of
//! the generated functions. The numbers they compute are checked by the integration tests.

use proc_macro2::TokenStream;
use quote::{quote, ToTokens};

/// The generated function called `name`, as text.
fn generated(args: TokenStream, item: TokenStream, name: &str) -> String {
    let out = crate::expand::differentiate(args, item);
    let file: syn::File = syn::parse2(out).expect("the expansion parses");
    file.items
        .iter()
        .find_map(|item| match item {
            syn::Item::Fn(f) if f.sig.ident == name => Some(f.block.to_token_stream().to_string()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no function `{name}` generated"))
}

fn occurrences(text: &str, pattern: &str) -> usize {
    text.matches(pattern).count()
}

#[test]
fn maps_of_one_closure_share_one_loop() {
    let item = quote! {
        fn f(x: &SVector<f64, 3>) -> f64 { x.map(|t| 1.0 / (1.0 + (-t).exp())).sum() }
    };
    // The value needs σ and the gradient σ' over x: one loop, and `exp` written once in it.
    let value_and_grad = generated(quote!(wrt = x), item, "f_value_and_grad");
    assert_eq!(
        occurrences(&value_and_grad, "for __i in"),
        1,
        "{value_and_grad}"
    );
    assert_eq!(
        occurrences(&value_and_grad, ". map ("),
        0,
        "{value_and_grad}"
    );
    assert_eq!(
        occurrences(&value_and_grad, ". exp ()"),
        1,
        "{value_and_grad}"
    );
}

#[test]
fn a_single_map_stays_a_map() {
    let item = quote! {
        fn f(x: &SVector<f64, 3>, a: &SVector<f64, 3>) -> f64 { x.dot(&a.map(|t| t.exp())) }
    };
    let grad = generated(quote!(wrt = x), item, "f_grad");
    assert_eq!(occurrences(&grad, ". map ("), 1, "{grad}");
    assert_eq!(occurrences(&grad, "for __i in"), 0, "{grad}");
}

#[test]
fn log_determinant_and_its_gradient_share_one_factorisation() {
    let item = quote! {
        fn f(a: &SMatrix<f64, 3, 3>) -> f64 { a.determinant().ln() }
    };
    let value_and_grad = generated(quote!(wrt = a), item.clone(), "f_value_and_grad");
    assert!(
        value_and_grad.contains("determinant_and_inverse_transpose"),
        "{value_and_grad}"
    );
    assert!(!value_and_grad.contains("try_inverse"), "{value_and_grad}");
    assert!(!value_and_grad.contains("transpose ()"), "{value_and_grad}");
    // The Hessian uses A⁻¹ itself: the plain inverse, no transpose-only shortcut.
    let hvp = generated(quote!(wrt = a), item, "f_hvp");
    assert!(!hvp.contains("determinant_and_inverse_transpose"), "{hvp}");
}

#[test]
fn determinant_gradient_uses_the_users_inverse_when_there_is_one() {
    let item = quote! {
        fn f(a: &SMatrix<f64, 3, 3>) -> f64 {
            a.determinant() + a.try_inverse().expect("mine").sum()
        }
    };
    let grad = generated(quote!(wrt = a), item, "f_grad");
    assert_eq!(occurrences(&grad, "try_inverse"), 1, "{grad}");
    assert!(grad.contains("\"mine\""), "{grad}");
    assert!(!grad.contains("determinant_and_inverse"), "{grad}");
}

#[test]
fn a_product_used_once_in_a_sum_is_accumulated() {
    let item = quote! {
        fn f(x: &SMatrix<f64, 3, 3>, a: &SMatrix<f64, 3, 3>, b: &SMatrix<f64, 3, 3>) -> f64 {
            (x.transpose() * a * x * b).trace()
        }
    };
    // ∇ = A X B + Aᵀ (X Bᵀ): the second product accumulates into a copy of the first.
    let grad = generated(quote!(wrt = x), item, "f_grad");
    assert_eq!(occurrences(&grad, "gemm_tr ("), 1, "{grad}");
    assert_eq!(occurrences(&grad, "tr_mul"), 0, "{grad}");
}

#[test]
fn a_shared_product_is_not_accumulated() {
    let item = quote! {
        fn f(x: &SVector<f64, 3>, a: &SMatrix<f64, 3, 3>, y: &SVector<f64, 3>) -> f64 {
            let p = a * x;
            (p - y).norm_squared() + p.sum()
        }
    };
    let grad = generated(quote!(wrt = x), item, "f_value_and_grad");
    assert_eq!(occurrences(&grad, "gemm"), 0, "{grad}");
}

#[test]
fn grad_and_value_and_grad_compute_the_same_way() {
    let item = quote! {
        fn f(x: &SMatrix<f64, 3, 3>, a: &SMatrix<f64, 3, 3>) -> f64 {
            let y = x.transpose() * a * x;
            y.trace() + (a * x).norm_squared()
        }
    };
    let grad = generated(quote!(wrt = x), item.clone(), "f_grad");
    let value_and_grad = generated(quote!(wrt = x), item, "f_value_and_grad");
    let statements = |body: &str| body.rsplit_once(';').map(|(s, _)| s.to_owned());
    assert_eq!(statements(&grad), statements(&value_and_grad));
}

#[test]
fn eigenvalues_and_eigenvectors_share_one_decomposition() {
    let item = quote! {
        fn f(a: &SMatrix<f64, 3, 3>) -> f64 { a.symmetric_eigenvalues()[2] }
    };
    // The HVP of an eigenvalue needs the eigenvalues (the gaps) and the eigenvectors.
    let hvp = generated(quote!(wrt = a), item, "f_hvp");
    assert_eq!(occurrences(&hvp, ". symmetric_eigen ()"), 1, "{hvp}");
}

#[test]
fn every_lu_solve_with_one_matrix_shares_one_factorisation() {
    let item = quote! {
        fn f(a: &SMatrix<f64, 3, 3>, b: &SVector<f64, 3>, c: &SVector<f64, 3>) -> f64 {
            let lu = a.lu();
            let x = lu.solve(b).unwrap();
            let y = lu.solve(c).expect("singular");
            (x - c).norm_squared() + x.dot(&y)
        }
    };
    // The user's two solves, the tangents' solves and the adjoint's transposed solves: one
    // `lu()` in each generated function.
    for name in ["f_grad", "f_value_and_grad", "f_hvp"] {
        let text = generated(quote!(wrt = (a, b)), item.clone(), name);
        assert_eq!(occurrences(&text, ". lu ()"), 1, "{name}: {text}");
        assert!(
            occurrences(&text, "lu_solve_transpose") >= 1,
            "{name}: {text}"
        );
    }
}

#[test]
fn a_cholesky_factor_serves_the_value_gradient_and_hvp() {
    let item = quote! {
        fn f(x: &SVector<f64, 3>, sigma: &SMatrix<f64, 3, 3>) -> f64 {
            let chol = sigma.cholesky().unwrap();
            0.5 * x.dot(&chol.solve(x)) + chol.determinant().ln()
        }
    };
    for name in ["f_grad", "f_value_and_grad", "f_hvp"] {
        let text = generated(quote!(wrt = (x, sigma)), item.clone(), name);
        assert_eq!(occurrences(&text, ". cholesky ()"), 1, "{name}: {text}");
        // The inverse and the log-determinant come from the factor, not from an LU.
        assert_eq!(occurrences(&text, ". lu ()"), 0, "{name}: {text}");
        assert_eq!(occurrences(&text, "try_inverse"), 0, "{name}: {text}");
        assert_eq!(
            occurrences(&text, "determinant_and_inverse"),
            0,
            "{name}: {text}"
        );
    }
}

#[test]
fn q_and_r_share_one_qr() {
    let item = quote! {
        fn f(x: &SMatrix<f64, 4, 2>, w: &SMatrix<f64, 4, 2>) -> f64 {
            x.qr().q().component_mul(w).sum()
        }
    };
    for name in ["f_grad", "f_hvp"] {
        let text = generated(quote!(wrt = x), item.clone(), name);
        assert_eq!(occurrences(&text, ". qr ()"), 1, "{name}: {text}");
    }
}
