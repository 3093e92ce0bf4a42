//! Workspace tests of dd-integration; the tests live in `tests/`.

pub mod lifecycle;
