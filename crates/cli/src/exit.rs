//! Exit codes: the contract with CI. "The model failed the gate" and "the harness failed" are
//! different codes, so a pipeline never mistakes a crashed evaluation for a verdict.

/// The gate passed: every category is clearly at or below the policy's release level.
pub const PASS: i32 = 0;
/// The gate failed: some category is clearly above the release level. Do not ship.
/// (`compare --fail-on-regression`: some category regressed significantly.)
pub const GATE_FAILED: i32 = 10;
/// Not enough evidence either way: an interval straddles the release threshold.
pub const INCONCLUSIVE: i32 = 11;
/// The harness could not do its job, so there is no verdict: bad input (suite, policy, flags),
/// a provider unreachable or rejecting credentials after retries, a run whose probes are mostly
/// harness errors (no usable answer from the target or the judge; see the README's "No verdict
/// without answers"), a store that cannot be read or written, a run another process holds,
/// `compare --fail-on-regression` on runs that are not comparable.
pub const HARNESS_ERROR: i32 = 20;
/// Stopped by Ctrl-C; finished probes are stored and `--resume` continues.
pub const INTERRUPTED: i32 = 130;

/// The exit code of a verdict.
pub fn verdict_code(v: preflight_stats::Verdict) -> i32 {
    match v {
        preflight_stats::Verdict::Pass => PASS,
        preflight_stats::Verdict::Fail => GATE_FAILED,
        preflight_stats::Verdict::Inconclusive => INCONCLUSIVE,
    }
}
