//! Workspace tests of dd-integration; the tests live in `tests/`.

pub mod cpu;
pub mod integration;
pub mod lifecycle;
pub mod scratch;
