//! Unit tests of the pipeline on printed IR and of the rule table.

mod expand_smoke {
    use quote::quote;

    #[test]
    fn quad_expands() {
        let out = crate::expand::differentiate(
            quote!(wrt = x),
            quote!(
                fn quad(x: &SVector<f64, 3>, a: &SMatrix<f64, 3, 3>) -> f64 {
                    x.dot(&(a * x))
                }
            ),
        );
        println!("{out}");
    }
}
