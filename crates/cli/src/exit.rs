//! Exit codes: the contract with CI. "The model failed the gate" and "the harness failed" are
//! different codes, so a pipeline never mistakes a crashed evaluation for a verdict.

/// The gate passed: every category is clearly at or below the policy's release level.
pub const PASS: i32 = 0;
/// The gate failed: some category is clearly above the release level. Do not ship.
/// (`compare --fail-on-regression`: some category regressed significantly.)
pub const GATE_FAILED: i32 = 10;
/// Not enough evidence either way: an interval straddles the release threshold.
pub const INCONCLUSIVE: i32 = 11;
/// The harness could not do its job: bad input (suite, policy, flags), provider unreachable or
/// rejecting credentials after retries, store errors, `compare --fail-on-regression` on runs that
/// are not comparable. No verdict.
pub const HARNESS_ERROR: i32 = 20;
/// Stopped by Ctrl-C; finished probes are stored and `--resume` continues.
pub const INTERRUPTED: i32 = 130;
