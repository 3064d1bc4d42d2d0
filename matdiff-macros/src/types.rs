//! The IR's vocabulary: node ids, dimensions, static types, symbolic integers, the element
//! type. Plain data with the functions that only read it; `ops.rs` (the operations) builds on
//! these, and the arena (`ir.rs`) on both.

use proc_macro2::Ident;
use std::fmt;

/// Index of a node in an arena (`ir::Graph`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct Id(u32);

impl Id {
    /// The first node of a graph: a closure body's argument.
    pub fn first() -> Id {
        Id(0)
    }

    /// The id of the node at `index` of an arena.
    pub fn from_index(index: usize) -> Id {
        Id(u32::try_from(index).expect("graph fits in u32 ids"))
    }

    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A static dimension: a literal or the name of a const generic parameter.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum Dim {
    Lit(usize),
    Param(Ident),
}

/// The static type of a value: a scalar of the function's element type, or a matrix.
///
/// A vector is an `n x 1` matrix and a row vector a `1 x n` one; a `1 x 1` matrix is not a
/// scalar (nalgebra keeps them apart too).
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum Ty {
    Scalar,
    Mat(Dim, Dim),
    /// What a call into another differentiated function, a loop or a branch returns: several
    /// values, read with `Op::Field`.
    Tuple(Vec<Ty>),
    /// An integer (a loop index, a size, a `usize` parameter): never differentiated.
    Int,
    /// A condition: never differentiated.
    Bool,
    /// A fixed-size stack array of values, one per loop iteration: what a loop's reverse
    /// sweep reads back (its tape).
    Array(Box<Ty>, SymInt),
}

/// An integer known at compile time, possibly only symbolically: a loop's start and trip
/// count in terms of literals and const generics (`N - 1`).
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum SymInt {
    Lit(i64),
    Name(Ident),
    /// The length of a constant array in scope (`DATA.len()`).
    Len(Ident),
    Add(Box<SymInt>, Box<SymInt>),
    Sub(Box<SymInt>, Box<SymInt>),
    Mul(Box<SymInt>, Box<SymInt>),
    Div(Box<SymInt>, Box<SymInt>),
    Rem(Box<SymInt>, Box<SymInt>),
    Min(Box<SymInt>, Box<SymInt>),
    Max(Box<SymInt>, Box<SymInt>),
}

/// The element type of every value in a function.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Elem {
    F32,
    F64,
}

impl Ty {
    pub fn mat(rows: usize, cols: usize) -> Ty {
        Ty::Mat(Dim::Lit(rows), Dim::Lit(cols))
    }

    pub fn is_matrix(&self) -> bool {
        matches!(self, Ty::Mat(..))
    }

    pub fn is_scalar(&self) -> bool {
        matches!(self, Ty::Scalar)
    }

    /// Whether values of this type have derivatives (integers and conditions do not).
    pub fn is_differentiable(&self) -> bool {
        !matches!(self, Ty::Int | Ty::Bool)
    }

    pub fn transposed(&self) -> Ty {
        match self {
            Ty::Mat(r, c) => Ty::Mat(c.clone(), r.clone()),
            _ => self.clone(),
        }
    }

    /// How the user would name this shape in a message: `scalar`, `3x3 matrix`, `vector of 3`.
    pub fn describe(&self) -> String {
        match self {
            Ty::Scalar => "scalar".to_owned(),
            Ty::Mat(r, Dim::Lit(1)) => format!("{r}x1 vector"),
            Ty::Mat(Dim::Lit(1), c) => format!("1x{c} row vector"),
            Ty::Mat(r, c) => format!("{r}x{c} matrix"),
            Ty::Tuple(_) => "tuple".to_owned(),
            Ty::Int => "integer".to_owned(),
            Ty::Bool => "condition".to_owned(),
            Ty::Array(item, n) => format!("tape of {n} {item}"),
        }
    }
}

/// The length of a loop's tape: its trip count, or a bound of it that Rust accepts as an
/// array length (`N` for `N - 1`): a literal, a const generic or a constant array's length.
pub fn tape_capacity(trip: &SymInt) -> Option<SymInt> {
    match trip {
        SymInt::Lit(n) => Some(SymInt::Lit((*n).max(0))),
        SymInt::Name(_) | SymInt::Len(_) => Some(trip.clone()),
        SymInt::Sub(a, b) if matches!(**b, SymInt::Lit(n) if n >= 0) => tape_capacity(a),
        SymInt::Div(a, b) if matches!(**b, SymInt::Lit(n) if n >= 1) => tape_capacity(a),
        SymInt::Min(a, b) => tape_capacity(a).or_else(|| tape_capacity(b)),
        _ => None,
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "%{}", self.0)
    }
}

impl fmt::Display for Dim {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Dim::Lit(n) => write!(f, "{n}"),
            Dim::Param(name) => write!(f, "{name}"),
        }
    }
}

impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Ty::Scalar => write!(f, "scalar"),
            Ty::Mat(r, c) => write!(f, "{r}x{c}"),
            Ty::Tuple(items) => {
                let items: Vec<String> = items.iter().map(ToString::to_string).collect();
                write!(f, "({})", items.join(", "))
            }
            Ty::Int => write!(f, "int"),
            Ty::Bool => write!(f, "bool"),
            Ty::Array(item, n) => write!(f, "[{item}; {n}]"),
        }
    }
}

impl fmt::Display for SymInt {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            SymInt::Lit(n) => write!(f, "{n}"),
            SymInt::Name(name) => write!(f, "{name}"),
            SymInt::Len(name) => write!(f, "{name}.len()"),
            SymInt::Add(a, b) => write!(f, "({a} + {b})"),
            SymInt::Sub(a, b) => write!(f, "({a} - {b})"),
            SymInt::Mul(a, b) => write!(f, "({a} * {b})"),
            SymInt::Div(a, b) => write!(f, "({a} / {b})"),
            SymInt::Rem(a, b) => write!(f, "({a} % {b})"),
            SymInt::Min(a, b) => write!(f, "min({a}, {b})"),
            SymInt::Max(a, b) => write!(f, "max({a}, {b})"),
        }
    }
}
