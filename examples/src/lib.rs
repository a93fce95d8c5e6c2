//! Example programs live in `examples/examples/`; this library is intentionally empty.
