//! leakhound: a secret-leak scanner. Data flows one way:
//! `source → engine → findings → report writers`, connected by [`scan`].

pub mod engine;
#[doc(hidden)]
pub mod fuzzing;
pub mod hook;
pub mod report;
pub mod scan;
pub mod source;
