//! The printed IR of a few small functions: the lowered value, then the gradient and
//! Hessian-vector-product programs, so that any change in what the macro generates shows in
//! review. Regenerate with `UPDATE_EXPECT=1 cargo test -p matdiff-macros`, then read the diff:
//! each snapshot below was checked by hand against the closed form in its comment.

use super::support::differentiate;
use expect_test::{expect, Expect};
use proc_macro2::TokenStream;
use quote::quote;
use syn::{parse_quote, ItemFn};

fn check(func: ItemFn, wrt: TokenStream, expected: Expect) {
    let f = differentiate(&func, wrt);
    let p = &f.program;
    let mut out = format!("value:\n{}", p.graph.dump(&[p.value]));
    for (label, outputs) in [("gradient", &p.gradient), ("hvp", &p.hvp)] {
        for (j, id) in outputs.iter().enumerate() {
            let name = &f.names[f.wrt[j]];
            match id {
                Some(id) => out += &format!("{label} {name}:\n{}", p.graph.dump(&[*id])),
                None => out += &format!("{label} {name}: zero\n"),
            }
        }
    }
    expected.assert_eq(&out);
}

/// ∇ = A x + Aᵀ x, H[v] = A v + Aᵀ v.
#[test]
fn quadratic_form() {
    check(
        parse_quote! {
            fn quad(x: &SVector<f64, 3>, a: &SMatrix<f64, 3, 3>) -> f64 {
                x.dot(&(a * x))
            }
        },
        quote!(wrt = x),
        expect![[r#"
            value:
            %0: 3x1 = Param(0)
            %1: 3x3 = Param(1)
            %2: 3x1 = MatMul %1 %0
            %3: scalar = Dot %0 %2
            out %3
            gradient x:
            %0: 3x1 = Param(0)
            %1: 3x3 = Param(1)
            %2: 3x1 = MatMul %1 %0
            %6: 3x1 = TrMul %1 %0
            %7: 3x1 = Add %2 %6
            out %7
            hvp x:
            %1: 3x3 = Param(1)
            %10: 3x1 = Param(2)
            %12: 3x1 = MatMul %1 %10
            %16: 3x1 = TrMul %1 %10
            %17: 3x1 = Add %12 %16
            out %17
        "#]],
    );
}

/// ∇ = 2 x, H[v] = 2 v.
#[test]
fn scalar_square() {
    check(
        parse_quote! {
            fn square(x: f64) -> f64 {
                x * x
            }
        },
        quote!(wrt = x),
        expect![[r#"
            value:
            %0: scalar = Param(0)
            %1: scalar = Mul %0 %0
            out %1
            gradient x:
            %0: scalar = Param(0)
            %3: scalar = Add %0 %0
            out %3
            hvp x:
            %4: scalar = Param(1)
            %8: scalar = Add %4 %4
            out %8
        "#]],
    );
}

/// ∇ = 4 x, H[v] = 4 v.
#[test]
fn scaled_norm_squared() {
    check(
        parse_quote! {
            fn energy(x: &SVector<f64, 3>) -> f64 {
                2.0 * x.norm_squared()
            }
        },
        quote!(wrt = x),
        expect![[r#"
            value:
            %0: 3x1 = Param(0)
            %1: scalar = Lit(2.0)
            %2: scalar = NormSquared %0
            %3: scalar = Mul %1 %2
            out %3
            gradient x:
            %0: 3x1 = Param(0)
            %5: scalar = Lit(4.0)
            %6: 3x1 = Scale %5 %0
            out %6
            hvp x:
            %5: scalar = Lit(4.0)
            %7: 3x1 = Param(1)
            %11: 3x1 = Scale %5 %7
            out %11
        "#]],
    );
}

/// ∇ = 2 Aᵀ (A x − y), H[v] = 2 Aᵀ A v.
#[test]
fn least_squares() {
    check(
        parse_quote! {
            fn residual(x: &SVector<f64, 2>, a: &SMatrix<f64, 3, 2>, y: &SVector<f64, 3>) -> f64 {
                (a * x - y).norm_squared()
            }
        },
        quote!(wrt = x),
        expect![[r#"
            value:
            %0: 2x1 = Param(0)
            %1: 3x2 = Param(1)
            %2: 3x1 = Param(2)
            %3: 3x1 = MatMul %1 %0
            %4: 3x1 = Sub %3 %2
            %5: scalar = NormSquared %4
            out %5
            gradient x:
            %0: 2x1 = Param(0)
            %1: 3x2 = Param(1)
            %2: 3x1 = Param(2)
            %3: 3x1 = MatMul %1 %0
            %4: 3x1 = Sub %3 %2
            %7: scalar = Lit(2.0)
            %10: 2x1 = TrMul %1 %4
            %11: 2x1 = Scale %7 %10
            out %11
            hvp x:
            %1: 3x2 = Param(1)
            %7: scalar = Lit(2.0)
            %15: 2x1 = Param(3)
            %18: 3x1 = MatMul %1 %15
            %22: 2x1 = TrMul %1 %18
            %23: 2x1 = Scale %7 %22
            out %23
        "#]],
    );
}

/// ∇ = A X B + Aᵀ X Bᵀ, H[V] = A V B + Aᵀ V Bᵀ.
#[test]
fn trace_form() {
    check(
        parse_quote! {
            fn tr(x: &SMatrix<f64, 3, 2>, a: &SMatrix<f64, 3, 3>, b: &SMatrix<f64, 2, 2>) -> f64 {
                (x.transpose() * a * x * b).trace()
            }
        },
        quote!(wrt = x),
        expect![[r#"
            value:
            %0: 3x2 = Param(0)
            %1: 3x3 = Param(1)
            %2: 2x2 = Param(2)
            %7: 3x2 = MatMul %1 %0
            %8: 3x2 = MatMul %7 %2
            %9: scalar = Dot %0 %8
            out %9
            gradient x:
            %0: 3x2 = Param(0)
            %1: 3x3 = Param(1)
            %2: 2x2 = Param(2)
            %7: 3x2 = MatMul %1 %0
            %8: 3x2 = MatMul %7 %2
            %11: 2x2 = Transpose %2
            %12: 3x2 = MatMul %0 %11
            %14: 3x2 = TrMul %1 %12
            %15: 3x2 = Add %8 %14
            out %15
            hvp x:
            %1: 3x3 = Param(1)
            %2: 2x2 = Param(2)
            %11: 2x2 = Transpose %2
            %19: 3x2 = Param(3)
            %28: 3x2 = MatMul %1 %19
            %29: 3x2 = MatMul %28 %2
            %33: 3x2 = MatMul %19 %11
            %34: 3x2 = TrMul %1 %33
            %35: 3x2 = Add %29 %34
            out %35
        "#]],
    );
}

/// ∇ = E₀₁ exp m₀₁ + E₁₀ cos m₁₀, H[V] = E₀₁ exp m₀₁ V₀₁ − E₁₀ sin m₁₀ V₁₀.
#[test]
fn entries() {
    check(
        parse_quote! {
            fn entries(m: &SMatrix<f64, 2, 2>) -> f64 {
                m[(0, 1)].exp() + m[(1, 0)].sin()
            }
        },
        quote!(wrt = m),
        expect![[r#"
            value:
            %0: 2x2 = Param(0)
            %1: scalar = Index(0, 1) %0
            %2: scalar = Fun(Exp) %1
            %3: scalar = Index(1, 0) %0
            %4: scalar = Fun(Sin) %3
            %5: scalar = Add %2 %4
            out %5
            gradient m:
            %0: 2x2 = Param(0)
            %1: scalar = Index(0, 1) %0
            %2: scalar = Fun(Exp) %1
            %3: scalar = Index(1, 0) %0
            %7: scalar = Fun(Cos) %3
            %8: 2x2 = Embed(1, 0) %7
            %10: int = Int(0)
            %11: int = Int(1)
            %12: 2x2 = AddAt %8 %2 %10 %11
            out %12
            hvp m:
            %0: 2x2 = Param(0)
            %1: scalar = Index(0, 1) %0
            %2: scalar = Fun(Exp) %1
            %3: scalar = Index(1, 0) %0
            %4: scalar = Fun(Sin) %3
            %10: int = Int(0)
            %11: int = Int(1)
            %13: 2x2 = Param(1)
            %14: scalar = Index(0, 1) %13
            %15: scalar = Mul %2 %14
            %16: scalar = Index(1, 0) %13
            %19: scalar = Neg %4
            %20: scalar = Mul %19 %16
            %21: 2x2 = Embed(1, 0) %20
            %23: 2x2 = AddAt %21 %15 %10 %11
            out %23
        "#]],
    );
}
