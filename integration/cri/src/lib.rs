//! Nothing: this package is its test, `tests/cri.rs`, run by `integration/engines/cri.sh`.
