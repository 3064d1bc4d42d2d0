//! Adapters to the optimisation crates people already use, each behind the cargo feature of
//! the same name. Both crates are built on nalgebra 0.34, so turning either feature on builds
//! matdiff for nalgebra 0.34 too (see [nalgebra versions](crate#nalgebra-versions)).

#[cfg(feature = "argmin")]
pub mod argmin;
#[cfg(feature = "levenberg-marquardt")]
pub mod levenberg_marquardt;
