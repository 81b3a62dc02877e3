//! The README shows what platgen really does: every `console` block is run,
//! command by command, and what it prints must be what the block shows; the
//! workflow and the hook configuration it shows are the files users copy.
//!
//! A `console` block holds `$ platgen ...` lines, each followed by exactly
//! the output of that command (standard output, then standard error). The
//! blocks run one after the other in one scratch copy of the repository, as
//! a reader typing them in would. Examples that cannot run here (docker,
//! kubectl) go in `sh` blocks, which are not run.

use std::fs;
use std::path::Path;
use std::process::Command;

use crate::support::root;

/// `(command line, expected output)` of every console block, in order.
fn console_commands(readme: &str) -> Vec<(String, String)> {
    let mut commands = Vec::new();
    for block in readme.split("```console\n").skip(1) {
        let block = block.split("\n```").next().unwrap();
        let mut current: Option<(String, Vec<&str>)> = None;
        for line in block.lines() {
            if let Some(command) = line.strip_prefix("$ ") {
                if let Some((c, out)) = current.take() {
                    commands.push((c, out.join("\n")));
                }
                current = Some((command.to_owned(), Vec::new()));
            } else {
                let (_, out) = current
                    .as_mut()
                    .unwrap_or_else(|| panic!("a console block starts with output: {line}"));
                out.push(line);
            }
        }
        if let Some((c, out)) = current {
            commands.push((c, out.join("\n")));
        }
    }
    commands
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &dest);
        } else {
            fs::copy(entry.path(), dest).unwrap();
        }
    }
}

#[test]
fn every_console_block_of_the_readme_prints_what_it_shows() {
    let readme = fs::read_to_string(root().join("README.md")).unwrap();
    let commands = console_commands(&readme);
    assert!(commands.len() >= 4, "{commands:?}");
    let dir = tempfile::tempdir().unwrap();
    for entry in ["examples", "templates", "out", "docs"] {
        copy_tree(&root().join(entry), &dir.path().join(entry));
    }
    for file in ["platform.yaml", "platform.schema.json"] {
        fs::copy(root().join(file), dir.path().join(file)).unwrap();
    }
    for (line, expected) in commands {
        let words: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(
            words[0], "platgen",
            "a console block runs only platgen: {line}"
        );
        assert!(
            !line.contains(['|', '>', '<', '\'', '"', '#']),
            "a console block's command is plain words: {line}"
        );
        let out = Command::new(env!("CARGO_BIN_EXE_platgen"))
            .args(&words[1..])
            .current_dir(dir.path())
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        let actual = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            actual.trim_end(),
            expected.trim_end(),
            "`{line}` in README.md does not print what README.md shows"
        );
    }
}

/// The text of the fenced block that follows `marker` in the README.
fn block_after<'r>(readme: &'r str, marker: &str) -> &'r str {
    let rest = readme
        .split(marker)
        .nth(1)
        .unwrap_or_else(|| panic!("README.md has no {marker:?}"));
    let body = rest.split_once("```yaml\n").unwrap().1;
    body.split("```\n").next().unwrap()
}

#[test]
fn the_readme_shows_the_workflow_file_users_copy() {
    let readme = fs::read_to_string(root().join("README.md")).unwrap();
    let shown = block_after(&readme, "<!-- .github/workflows/platgen.yml -->");
    let file = fs::read_to_string(root().join(".github/workflows/platgen.yml")).unwrap();
    assert_eq!(
        shown, file,
        "README.md shows another workflow than .github/workflows/platgen.yml"
    );
    // Its platgen steps pass on this repository, as they would in CI.
    for line in file.lines() {
        let Some(command) = line.trim().strip_prefix("run: platgen ") else {
            continue;
        };
        let args: Vec<&str> = command.split_whitespace().collect();
        let out = crate::support::platgen(&args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "platgen {command}: {}",
            crate::support::stderr(&out)
        );
        if args.contains(&"github") {
            let text = crate::support::stdout(&out);
            assert!(
                text.starts_with("::warning file=platform.yaml,line="),
                "{text}"
            );
        }
    }
}

#[test]
fn the_readme_names_only_hooks_that_exist() {
    let readme = fs::read_to_string(root().join("README.md")).unwrap();
    let hooks = fs::read_to_string(root().join(".pre-commit-hooks.yaml")).unwrap();
    let config = readme
        .split("# .pre-commit-config.yaml\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("README.md shows a .pre-commit-config.yaml");
    let mut named = 0;
    for line in config.lines() {
        if let Some(id) = line.trim().trim_start_matches("# ").strip_prefix("- id: ") {
            let id = id.split_whitespace().next().unwrap();
            assert!(
                hooks.contains(&format!("- id: {id}\n")),
                "README.md names hook {id}"
            );
            named += 1;
        }
    }
    assert_eq!(named, 4, "{config}");
}

#[test]
fn the_readme_says_which_tests_cargo_test_leaves_ignored() {
    let readme = fs::read_to_string(root().join("README.md")).unwrap();
    let mut ignored = Vec::new();
    for entry in fs::read_dir(root().join("tests/integration")).unwrap() {
        let text = fs::read_to_string(entry.unwrap().path()).unwrap_or_default();
        for part in text.split("#[ignore = \"needs ").skip(1) {
            ignored.push(part.split(';').next().unwrap().to_owned());
        }
    }
    assert!(!ignored.is_empty());
    let note = readme
        .split("tests are ignored")
        .nth(1)
        .expect("README.md says that some tests are ignored");
    let note = note.split("\n\n").next().unwrap();
    assert!(note.contains("cargo test -- --ignored"), "{note}");
    for need in ignored {
        let tool = need
            .trim_start_matches("a ")
            .split([' ', ','])
            .next()
            .unwrap()
            .to_owned();
        assert!(
            note.contains(&tool),
            "README.md does not say that a test needs {need}: {note}"
        );
    }
}
