//! The `platgen` executable: exit codes, formats, and bad input that must
//! give a located error, never a panic.

use std::fmt::Write as _;
use std::path::Path;

use crate::support::{fixture, platgen, platgen_in, root, stderr, stdout};

fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn check_on_the_root_platform_exits_0() {
    let out = platgen(&["check"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("platform.yaml: ok, "),
        "{}",
        stdout(&out)
    );
}

#[test]
fn deny_warnings_makes_warnings_fail() {
    let spec = fixture("invalid/missing-health.yaml");
    let spec = spec.to_str().unwrap();
    assert_eq!(platgen(&["check", spec]).status.code(), Some(0));
    let out = platgen(&["check", "--deny-warnings", spec]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("denied by --deny-warnings"));
}

#[test]
fn the_broken_plan_exits_1_and_names_all_three_mistakes() {
    let out = platgen(&["check", "examples/broken-plan/platform.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains("refers to port 2600"), "{text}");
    assert!(text.contains("duplicate key `prometheus`"), "{text}");
    assert!(
        text.contains("overlap host port 1200/tcp of `redis`"),
        "{text}"
    );
    assert!(text.contains("first defined here"), "{text}");
    assert!(text.contains("`redis` publishes 1200 here"), "{text}");
    assert!(text.contains("4 errors and 1 warning"), "{text}");
}

#[test]
fn a_missing_file_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = platgen_in(dir.path(), &["check"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("cannot read platform.yaml"),
        "{}",
        stderr(&out)
    );
    let out = platgen(&["check", "--format", "yaml"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn json_format_is_one_document_with_positions() {
    let out = platgen(&[
        "check",
        "--format",
        "json",
        "examples/broken-plan/platform.yaml",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["summary"]["errors"], 4);
    assert_eq!(doc["summary"]["warnings"], 1);
    let conflict = doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["rule"] == "port-conflict")
        .unwrap();
    assert_eq!(conflict["code"], "PG201");
    assert_eq!(conflict["file"], "examples/broken-plan/platform.yaml");
    assert!(conflict["line"].as_u64().unwrap() > 1);
    assert_eq!(conflict["labels"].as_array().unwrap().len(), 2);
}

#[test]
fn github_format_annotates_every_problem() {
    let out = platgen(&[
        "check",
        "--format",
        "github",
        "examples/broken-plan/platform.yaml",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 5, "{text}");
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.starts_with("::error file=examples/broken-plan/platform.yaml,line="))
            .count(),
        4
    );
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("::warning ")).count(),
        1
    );
    assert!(
        lines
            .iter()
            .all(|l| l.contains(",col=") && l.contains("::"))
    );
}

#[test]
fn several_files_are_checked_in_one_run() {
    let good = root().join("platform.yaml");
    let bad = fixture("invalid/self-dependency.yaml");
    let out = platgen(&["check", good.to_str().unwrap(), bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("ok, ") && text.contains("depends on itself"),
        "{text}"
    );
}

#[test]
fn standard_input_is_a_spec_too() {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_platgen"))
        .args(["check", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(
            b"name: demo\nservices:\n  web: {image: \"nginx:1.27.3-alpine\", depends_on: [web]}\n",
        )
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("<stdin>:3:"), "{}", stdout(&out));
}

/// Bad input of every kind: exit 1 with `file:line:column`, never a panic
/// (101) or a crash by signal.
fn assert_located_error(name: &str, bytes: &[u8], expect: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), name, bytes);
    let out = platgen(&["check", &path]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{name}: {text}{}", stderr(&out));
    assert!(
        text.contains(&format!("{name}:")),
        "{name}: no location in {text}"
    );
    assert!(
        text.contains(expect),
        "{name}: expected {expect:?} in {text}"
    );
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
}

#[test]
fn empty_file() {
    assert_located_error("empty.yaml", b"", "the spec is empty");
    assert_located_error("blank.yaml", b"\n\n# nothing\n", "the spec is empty");
}

#[test]
fn a_list_instead_of_a_mapping() {
    assert_located_error(
        "list.yaml",
        b"- name: demo\n- services: {}\n",
        "expected a mapping, found a sequence",
    );
}

#[test]
fn binary_junk() {
    let junk: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    assert_located_error("junk.yaml", &junk, "not UTF-8");
    assert_located_error(
        "nul.yaml",
        b"name: demo\x00\nservices: {}\n",
        "error[PG001]",
    );
}

#[test]
fn a_billion_laughs_alias_bomb() {
    let mut text = String::from(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"];
    for pair in names.windows(2) {
        let refs = vec![format!("*{}", pair[0]); 9].join(",");
        let _ = writeln!(text, "{}: &{} [{refs}]", pair[1], pair[1]);
    }
    assert_located_error("bomb.yaml", text.as_bytes(), "alias bomb");
}

#[test]
fn a_hundred_thousand_levels_of_nesting() {
    let flow = "[".repeat(100_000) + &"]".repeat(100_000);
    assert_located_error("flow.yaml", flow.as_bytes(), "nests deeper than 64 levels");
    let block: String = (0..100_000).map(|_| "- ").collect::<String>() + "x\n";
    assert_located_error(
        "block.yaml",
        block.as_bytes(),
        "nests deeper than 64 levels",
    );
    let nested_maps = "{a: ".repeat(100_000) + &"}".repeat(100_000);
    assert_located_error(
        "maps.yaml",
        nested_maps.as_bytes(),
        "nests deeper than 64 levels",
    );
}

#[test]
fn explain_and_rules_describe_every_rule() {
    let out = platgen(&["rules"]);
    assert!(out.status.success());
    let listing = stdout(&out);
    for rule in platgen::check::all_rules() {
        assert!(listing.contains(rule.code) && listing.contains(rule.name));
        let explained = stdout(&platgen(&["explain", rule.name]));
        assert!(explained.contains("Why:"), "{}", rule.name);
    }
    assert_eq!(platgen(&["explain", "PG999"]).status.code(), Some(2));
}

#[test]
fn an_unreadable_file_does_not_hide_the_others() {
    let out = platgen(&[
        "check",
        "examples/minimal",
        "no-such-spec.yaml",
        "tests/fixtures/invalid/self-dependency.yaml",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("cannot read no-such-spec.yaml"));
    let text = stdout(&out);
    assert!(
        text.contains("examples/minimal/platform.yaml: ok"),
        "{text}"
    );
    assert!(text.contains("depends on itself"), "{text}");
}

#[test]
fn yaml_12_words_are_strings_and_a_bom_does_not_shift_columns() {
    let dir = tempfile::tempdir().unwrap();
    // `on` and `yes` are strings in YAML 1.2: valid names here.
    let spec = "\u{feff}name: on\ndomain: yes\nservices:\n  web: {image: \"nginx:1.27.3-alpine\", ports: [{name: y, container: 80}], health: {http: {path: /}}}\n";
    let path = write(dir.path(), "p.yaml", spec.as_bytes());
    let out = platgen(&["check", &path]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let path = write(dir.path(), "bom.yaml", "\u{feff}nme: x\n".as_bytes());
    let out = platgen(&["check", &path]);
    assert!(stdout(&out).contains("bom.yaml:1:1"), "{}", stdout(&out));
}

/// The output the docs show is the output platgen gives.
#[test]
fn the_broken_plan_readme_shows_real_output() {
    let readme = std::fs::read_to_string(root().join("examples/broken-plan/README.md")).unwrap();
    let actual = stdout(&platgen(&["check", "examples/broken-plan/platform.yaml"]));
    let mut blocks = 0;
    for block in readme.split("```text\n").skip(1) {
        let block = block.split("```").next().unwrap();
        let lines: Vec<&str> = block
            .lines()
            .map(|l| l.strip_prefix("   ").unwrap_or(l))
            .collect();
        let body = lines.join("\n").trim_end().to_owned();
        assert!(
            actual.contains(&body),
            "README block not in the output:\n{body}\n--- output:\n{actual}"
        );
        blocks += 1;
    }
    assert_eq!(blocks, 3);
    let tour = std::fs::read_to_string(root().join("README.md")).unwrap();
    let shown = tour
        .split("$ platgen check examples/broken-plan/platform.yaml\n")
        .nth(1)
        .unwrap();
    let shown = shown.split("```").next().unwrap();
    for line in shown.lines().filter(|l| !l.is_empty()) {
        assert!(
            actual.contains(line),
            "README line not in the output: {line}"
        );
    }
}
