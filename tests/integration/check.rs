//! Every rule against its fixture: the human and JSON diagnostics are
//! snapshots, and each fixture must produce its own rule and no other.

use platgen::check::{self, all_rules};
use platgen::diag::{self, Severity};

use crate::support::{display, fixture};

/// The rule a fixture is about: its file stem up to an optional `--case`.
fn rule_of(path: &std::path::Path) -> String {
    let stem = path.file_stem().unwrap().to_string_lossy();
    stem.split("--").next().unwrap().to_owned()
}

#[test]
fn every_invalid_fixture_reports_its_rule_and_only_it() {
    insta::glob!("../fixtures", "invalid/*.yaml", |path| {
        let bytes = std::fs::read(path).unwrap();
        let name = display(path);
        let (source, outcome) = check::check_bytes(&name, &bytes);
        let expected = rule_of(path);
        assert!(
            !outcome.diagnostics.is_empty(),
            "{name}: no diagnostics at all"
        );
        for d in &outcome.diagnostics {
            assert_eq!(
                d.rule, expected,
                "{name}: unexpected {} {}: {}",
                d.code, d.rule, d.message
            );
        }
        let rule = check::find_rule(&expected).expect("fixture named after a rule");
        if rule.severity == Severity::Error {
            assert!(
                outcome.platform.is_none(),
                "{name}: a platform was built despite errors"
            );
        }
        let human = diag::human::render(&source, &outcome.diagnostics, false);
        let json = diag::json::render(&[(&source, outcome.diagnostics.as_slice())]);
        insta::assert_snapshot!("human", human);
        insta::assert_snapshot!("json", json);
    });
}

#[test]
fn every_rule_has_a_fixture() {
    for rule in all_rules() {
        let path = fixture(&format!("invalid/{}.yaml", rule.name));
        assert!(
            path.exists(),
            "rule {} {} has no fixture at {}",
            rule.code,
            rule.name,
            path.display()
        );
    }
}

#[test]
fn valid_fixtures_have_no_problems_and_build_a_platform() {
    insta::glob!("../fixtures", "valid/*.yaml", |path| {
        let bytes = std::fs::read(path).unwrap();
        let (_, outcome) = check::check_bytes(&display(path), &bytes);
        let messages: Vec<String> = outcome
            .diagnostics
            .iter()
            .map(|d| format!("{} {}: {}", d.code, d.rule, d.message))
            .collect();
        assert!(messages.is_empty(), "{}: {messages:#?}", path.display());
        assert!(outcome.platform.is_some());
    });
}

#[test]
fn the_root_platform_is_clean_but_for_the_plans_privileged_grafana_port() {
    let path = crate::support::root().join("platform.yaml");
    let (_, outcome) = check::check_bytes("platform.yaml", &std::fs::read(path).unwrap());
    let found: Vec<(&str, &str)> = outcome
        .diagnostics
        .iter()
        .map(|d| (d.rule, d.message.as_str()))
        .collect();
    assert_eq!(
        found,
        [(
            "privileged-port",
            "host port 1000 of `grafana` is privileged (below 1024)"
        )]
    );
    let platform = outcome.platform.expect("the root platform builds");
    assert!(
        platform.services.len() >= 28,
        "{} services",
        platform.services.len()
    );
    let phases: Vec<&str> = platform.phases.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(phases, ["1", "2A", "2B", "2C", "2D", "2E"]);
    // Every service that runs all the time has a health check; a job or
    // cronjob exits when done (its dependants wait for it to exit 0).
    for s in &platform.services {
        assert_eq!(
            s.health.is_some(),
            !s.runs_to_completion(),
            "{}: health check and kind disagree",
            s.name
        );
    }
}

#[test]
fn the_broken_plan_reports_the_three_mistakes_of_the_plan_with_both_locations() {
    let path = crate::support::root().join("examples/broken-plan/platform.yaml");
    let (source, outcome) = check::check_bytes("platform.yaml", &std::fs::read(path).unwrap());
    let errors: Vec<_> = outcome
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .collect();
    let at = |span: platgen::source::Span| source.line_col(span.start).line;
    // 1. RabbitMQ's checks look at 2600, which the service does not publish.
    let rabbit: Vec<_> = errors.iter().filter(|d| d.rule == "unknown-port").collect();
    assert_eq!(rabbit.len(), 2, "health and metrics");
    assert!(
        rabbit
            .iter()
            .all(|d| d.message.contains("rabbitmq") && d.message.contains("2600"))
    );
    assert!(rabbit.iter().all(|d| !d.secondary.is_empty()));
    // 2. Prometheus listed twice.
    let prom: Vec<_> = errors
        .iter()
        .filter(|d| d.rule == "duplicate-key")
        .collect();
    assert_eq!(prom.len(), 1);
    assert!(prom[0].message.contains("prometheus"));
    assert_eq!(prom[0].secondary.len(), 1);
    assert!(at(prom[0].secondary[0].span) < at(prom[0].primary.span));
    // 3. Redis 1200 inside Redis Cluster 1200-1205.
    let redis: Vec<_> = errors
        .iter()
        .filter(|d| d.rule == "port-conflict")
        .collect();
    assert_eq!(redis.len(), 1);
    assert!(redis[0].message.contains("1200-1205") && redis[0].message.contains("`redis`"));
    assert_eq!(redis[0].secondary.len(), 1);
    assert_eq!(errors.len(), 4, "nothing but the plan's mistakes");
}
