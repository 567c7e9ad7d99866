//! Shared unit-test support: the proptest case count, overridable for soaks.

/// Proptest's configuration with `cases` cases, unless `PROPTEST_CASES` asks for another count
/// (ci/soak.sh runs every property with many cases under fresh seeds; .cargo/config.toml pins
/// the seed otherwise).
pub(crate) fn proptest_config(cases: u32) -> proptest::test_runner::Config {
    let from_env = std::env::var("PROPTEST_CASES").is_ok();
    let default = proptest::test_runner::Config::default();
    proptest::test_runner::Config {
        cases: if from_env { default.cases } else { cases },
        ..default
    }
}
