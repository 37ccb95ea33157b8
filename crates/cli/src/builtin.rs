//! Suites that ship inside the binary. `preflight eval` with no suite runs the battery.

/// (name, TOML) of every built-in suite.
pub const SUITES: &[(&str, &str)] = &[("starter", include_str!("../../../suites/starter.toml"))];

/// What `battery` (the default) means today.
pub const BATTERY: &str = "starter";

/// The TOML of a built-in suite given as `battery`, `NAME` or `builtin:NAME`.
pub fn lookup(arg: &str) -> Option<(&'static str, &'static str)> {
    let name = arg.strip_prefix("builtin:").unwrap_or(arg);
    let name = if name == "battery" { BATTERY } else { name };
    SUITES.iter().copied().find(|(n, _)| *n == name)
}
