//! leakhound: a secret-leak scanner. Data flows one way:
//! `source → engine → findings → report writers`.

pub mod engine;
