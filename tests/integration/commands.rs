//! The commands around `check` and `render`, run as a user runs them: the
//! port map, the graph, PLATFORM.md, `init`, the templates, the man page,
//! shell completions, `--version`, `--quiet` and `--verbose`.

use std::fs;
use std::path::Path;
use std::process::Command;

use crate::support::{platgen, platgen_in, root, stderr, stdout};

/// The spec these snapshots are taken on: small, but with phases, roles, a
/// host range, a udp port, a bound address and internal ports.
const SPEC: &str = "tests/fixtures/valid/port-map.yaml";

fn ok(args: &[&str]) -> String {
    let out = platgen(args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "platgen {args:?}: {}{}",
        stdout(&out),
        stderr(&out)
    );
    stdout(&out)
}

#[test]
fn ports_prints_the_map_sorted_by_host_port_with_the_free_runs() {
    let table = ok(&["ports", SPEC]);
    insta::assert_snapshot!("ports", table);
    let json: serde_json::Value =
        serde_json::from_str(&ok(&["ports", SPEC, "--format", "json"])).expect("one JSON document");
    insta::assert_json_snapshot!("ports-json", json);
}

#[test]
fn ports_next_finds_the_lowest_free_port_or_block() {
    assert_eq!(ok(&["ports", SPEC, "--next"]), "8002\n");
    // 8002-8004 is free but too short for four; 8005 is postgres's.
    assert_eq!(
        ok(&["ports", SPEC, "--next", "--count", "4"]),
        "8006-8009\n"
    );
    // udp 8002 is taken, tcp 8000 is not a udp port.
    assert_eq!(
        ok(&["ports", SPEC, "--next", "--protocol", "udp"]),
        "8000\n"
    );
    let json = ok(&["ports", SPEC, "--next", "--count", "3", "--format", "json"]);
    insta::assert_snapshot!("ports-next-json", json);

    let full = platgen(&["ports", SPEC, "--next", "--count", "8"]);
    assert_eq!(full.status.code(), Some(1));
    assert_eq!(stdout(&full), "");
    assert_eq!(
        stderr(&full),
        "platgen: no 8 consecutive free tcp host ports in 8000-8019\n"
    );
    // --count without --next is a usage error, not a silently ignored flag.
    assert_eq!(
        platgen(&["ports", SPEC, "--count", "2"]).status.code(),
        Some(2)
    );
    assert_eq!(
        platgen(&["ports", SPEC, "--next", "--count", "0"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn a_new_port_from_ports_next_passes_check() {
    let dir = tempfile::tempdir().unwrap();
    let next = ok(&["ports", SPEC, "--next", "--count", "3"]);
    let spec = fs::read_to_string(root().join(SPEC)).unwrap().replace(
        "      - {name: bus, container: 6379}\n",
        &format!(
            "      - {{name: bus, container: 6379}}\n      - {{name: more, host: \"{}\", container: \"9000-9002\"}}\n",
            next.trim()
        ),
    );
    fs::write(dir.path().join("platform.yaml"), spec).unwrap();
    let out = platgen_in(dir.path(), &["check", "--deny-warnings"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

#[test]
fn graph_in_mermaid_and_dot() {
    let mermaid = ok(&["graph", SPEC]);
    insta::assert_snapshot!("graph-mermaid", mermaid);
    let dot = ok(&["graph", SPEC, "--format", "dot"]);
    insta::assert_snapshot!("graph-dot", dot);
    // Every dependency is an edge, in both languages.
    for (from, to) in [
        ("api", "postgres"),
        ("api", "cache"),
        ("edge", "prometheus"),
    ] {
        assert!(
            mermaid.contains(&format!("s_{from} --> s_{to}")),
            "{mermaid}"
        );
        assert!(dot.contains(&format!("\"{from}\" -> \"{to}\";")), "{dot}");
    }
}

fn dot_binary() -> Command {
    Command::new(std::env::var_os("PLATGEN_DOT").unwrap_or_else(|| "dot".into()))
}

fn dot_to_svg(dot: &str) -> String {
    use std::io::Write as _;
    let mut child = dot_binary()
        .arg("-Tsvg")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("Graphviz's `dot` runs (apt-get install graphviz)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(dot.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "dot rejected the graph: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
#[ignore = "needs Graphviz's dot; .ci/run installs it and runs the ignored tests"]
fn graphviz_draws_every_graph_without_a_warning() {
    for spec in [
        SPEC,
        "platform.yaml",
        "examples/microservices",
        "examples/minimal",
    ] {
        let svg = dot_to_svg(&ok(&["graph", spec, "--format", "dot"]));
        assert!(svg.contains("<svg"), "{spec}");
        assert!(
            svg.contains("<!-- platgen graph "),
            "{spec}: no fingerprint"
        );
    }
    // Names Graphviz would read as syntax are quoted.
    let svg = dot_to_svg(&ok(&["graph", SPEC, "--format", "dot"]));
    assert!(svg.contains("<title>api&#45;&gt;postgres</title>"), "{svg}");
}

/// The picture in the README is the root platform as it is now: the SVG
/// carries the fingerprint of the DOT graph it was drawn from.
#[test]
fn the_committed_svg_shows_the_root_platform_as_it_is() {
    let dot = ok(&["graph", "--format", "dot"]);
    let print = platgen::graph::dot_fingerprint(&dot).expect("a fingerprint");
    let svg = fs::read_to_string(root().join("docs/platform.svg")).unwrap();
    assert!(
        svg.contains(&format!("<!-- platgen graph {print} -->")),
        "docs/platform.svg is stale; run: platgen graph --format dot | dot -Tsvg > docs/platform.svg"
    );
}

/// Where Graphviz is at hand, the SVG is exactly what it draws now.
#[test]
#[ignore = "needs Graphviz's dot; .ci/run installs it and runs the ignored tests"]
fn the_committed_svg_is_what_graphviz_draws() {
    let svg = dot_to_svg(&ok(&["graph", "--format", "dot"]));
    let committed = fs::read_to_string(root().join("docs/platform.svg")).unwrap();
    assert!(
        svg == committed,
        "docs/platform.svg differs from what this Graphviz draws; run: platgen graph --format dot | dot -Tsvg > docs/platform.svg"
    );
}

#[test]
fn docs_writes_platform_md() {
    let page = ok(&["docs", SPEC]);
    insta::assert_snapshot!("docs", page);
    assert!(page.contains("```mermaid\nflowchart BT\n"));
    assert!(page.contains(
        "| `postgres-password` | postgres (`POSTGRES_PASSWORD`), api (`DATABASE_PASSWORD`) |"
    ));

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("PLATFORM.md");
    let file = file.to_str().unwrap();
    let spec = root().join(SPEC);
    let spec = spec.to_str().unwrap();
    let stale = platgen(&["docs", spec, "--out", file, "--check"]);
    assert_eq!(stale.status.code(), Some(1), "a missing page is stale");
    ok(&["docs", spec, "--out", file]);
    assert_eq!(fs::read_to_string(file).unwrap(), page);
    ok(&["docs", spec, "--out", file, "--check"]);
    fs::write(file, page.replace("Data stores", "Data")).unwrap();
    let stale = platgen(&["docs", spec, "--out", file, "--check"]);
    assert_eq!(stale.status.code(), Some(1));
    assert!(
        stdout(&stale).contains("-## Phase data: Data\n+## Phase data: Data stores\n"),
        "{}",
        stdout(&stale)
    );
    assert!(
        stderr(&stale).contains("is out of date"),
        "{}",
        stderr(&stale)
    );
}

/// The repository's own PLATFORM.md is the root platform as it is now.
#[test]
fn the_committed_platform_md_is_current() {
    let out = platgen(&["docs", "--out", "docs/PLATFORM.md", "--check"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "docs/PLATFORM.md is stale; run: platgen docs --out docs/PLATFORM.md\n{}",
        stdout(&out)
    );
}

#[test]
fn commands_that_read_a_spec_refuse_a_broken_one_with_its_errors() {
    for command in ["ports", "graph", "docs"] {
        let out = platgen(&[command, "examples/broken-plan/platform.yaml"]);
        assert_eq!(out.status.code(), Some(1), "{command}");
        assert_eq!(stdout(&out), "", "{command}");
        let text = stderr(&out);
        assert!(text.contains("error[PG201]"), "{command}: {text}");
        // Warnings are check's business.
        assert!(!text.contains("warning[PG204]"), "{command}: {text}");
        assert!(
            text.contains("4 errors; fix them first"),
            "{command}: {text}"
        );
    }
}

#[test]
fn init_writes_a_starter_that_checks_clean_and_renders() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("Corner Shop");
    let out = platgen_in(dir.path(), &["init", "Corner Shop"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("The platform `corner-shop` has three services"));
    let spec = fs::read_to_string(project.join("platform.yaml")).unwrap();
    insta::assert_snapshot!("init", spec);
    assert!(spec.starts_with("# yaml-language-server: $schema=platform.schema.json\n"));
    assert_eq!(
        fs::read_to_string(project.join("platform.schema.json")).unwrap(),
        ok(&["schema"])
    );

    let out = platgen_in(&project, &["check", "--deny-warnings"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let out = platgen_in(&project, &["render"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(project.join("out/nginx/nginx.conf").exists());

    // A second init refuses, and leaves the (edited) spec alone.
    fs::write(project.join("platform.yaml"), "name: mine\n").unwrap();
    let again = platgen_in(&project, &["init"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(
        stderr(&again).contains("platform.yaml"),
        "{}",
        stderr(&again)
    );
    assert!(
        stderr(&again).contains("nothing was written"),
        "{}",
        stderr(&again)
    );
    assert_eq!(
        fs::read_to_string(project.join("platform.yaml")).unwrap(),
        "name: mine\n"
    );
    // Even an unchanged spec is not "initialised" again.
    let fresh = dir.path().join("fresh");
    ok(&["init", fresh.to_str().unwrap(), "--name", "fresh", "-q"]);
    assert_eq!(
        platgen(&["init", fresh.to_str().unwrap(), "--name", "fresh"])
            .status
            .code(),
        Some(2)
    );
    let bad = platgen(&["init", fresh.to_str().unwrap(), "--name", "Bad_Name"]);
    assert!(
        stderr(&bad).contains("try `--name bad-name`"),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn check_in_an_empty_directory_says_how_to_start() {
    let dir = tempfile::tempdir().unwrap();
    for command in ["check", "render", "ports", "graph", "docs"] {
        let out = platgen_in(dir.path(), &[command]);
        assert_eq!(out.status.code(), Some(2), "{command}");
        let text = stderr(&out);
        assert!(
            text.contains("cannot read platform.yaml"),
            "{command}: {text}"
        );
        assert!(
            text.contains("`platgen init` writes a starter platform.yaml"),
            "{command}: {text}"
        );
    }
    // A missing file of another name is only that.
    let out = platgen_in(dir.path(), &["check", "other.yaml"]);
    assert!(!stderr(&out).contains("platgen init"), "{}", stderr(&out));
}

#[test]
fn templates_are_written_out_ready_for_render_templates() {
    let list = ok(&["templates"]);
    assert!(list.lines().any(|l| l == "nginx/nginx.conf.j2"), "{list}");
    assert_eq!(list.lines().count(), platgen::render::engine::BUILTIN.len());

    let dir = tempfile::tempdir().unwrap();
    let tpl = dir.path().join("tpl");
    let tpl_arg = tpl.to_str().unwrap();
    ok(&["templates", tpl_arg]);
    for (name, source) in platgen::render::engine::BUILTIN {
        assert_eq!(
            &fs::read_to_string(tpl.join(name)).unwrap(),
            source,
            "{name}"
        );
    }
    let readme = fs::read_to_string(tpl.join("README.md")).unwrap();
    assert_eq!(
        readme,
        fs::read_to_string(root().join("templates/README.md")).unwrap()
    );

    // The copies render exactly what the built-in templates render.
    let spec = root().join("examples/microservices/platform.yaml");
    let spec = spec.to_str().unwrap();
    let built_in = ok(&["render", spec, "--stdout"]);
    assert_eq!(
        ok(&["render", spec, "--stdout", "--templates", tpl_arg]),
        built_in
    );

    // An edited template is kept unless --force.
    let nginx = tpl.join("nginx/nginx.conf.j2");
    fs::write(&nginx, "# mine\n").unwrap();
    let out = platgen(&["templates", tpl_arg]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--force"), "{}", stderr(&out));
    assert_eq!(fs::read_to_string(&nginx).unwrap(), "# mine\n");
    ok(&["templates", tpl_arg, "--force"]);
    assert_ne!(fs::read_to_string(&nginx).unwrap(), "# mine\n");

    let help = ok(&["templates", "--help"]);
    assert!(help.contains("README.md"), "{help}");
}

#[test]
fn the_man_page_covers_every_command() {
    let page = ok(&["man"]);
    assert!(page.starts_with(".ie \\n(.g .ds Aq"), "not roff: {page}");
    assert!(page.contains(".TH platgen 1"), "{page}");
    let dir = tempfile::tempdir().unwrap();
    ok(&["man", "--out", dir.path().to_str().unwrap()]);
    let mut pages: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    pages.sort();
    insta::assert_snapshot!("man-pages", pages.join("\n"));
    let ports = fs::read_to_string(dir.path().join("platgen-ports.1")).unwrap();
    assert!(ports.contains("\\-\\-next"), "{ports}");
    assert!(
        ports.contains("platgen ports \\-\\-next \\-\\-count 6"),
        "{ports}"
    );
}

#[test]
fn every_command_help_shows_examples() {
    let help = ok(&["--help"]);
    let commands: Vec<&str> = help
        .split("Commands:\n")
        .nth(1)
        .unwrap()
        .lines()
        .take_while(|l| l.starts_with("  "))
        // Continuation lines of a wrapped summary are indented further.
        .filter(|l| !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .collect();
    assert!(commands.len() >= 12, "{commands:?}");
    for command in commands {
        let help = ok(&[command, "--help"]);
        assert!(
            help.contains("Examples:\n  platgen "),
            "`platgen {command} --help` shows no example"
        );
    }
}

#[test]
fn version_names_the_commit() {
    let version = ok(&["--version"]);
    let expected = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(root())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    match expected {
        Some(commit) => assert_eq!(
            version,
            format!("platgen {} ({commit})\n", env!("CARGO_PKG_VERSION"))
        ),
        // A build outside a git work tree names no commit (or the one cargo
        // packaged), and is still a version line.
        None => assert!(version.starts_with(&format!("platgen {}", env!("CARGO_PKG_VERSION")))),
    }
}

#[test]
fn quiet_and_verbose() {
    let quiet = platgen(&["check", "-q", "examples/minimal"]);
    assert_eq!(quiet.status.code(), Some(0));
    assert_eq!(stdout(&quiet), "", "a clean check says nothing with -q");
    let broken = platgen(&["check", "--quiet", "examples/broken-plan/platform.yaml"]);
    assert!(stdout(&broken).contains("error[PG201]"));
    assert!(!stdout(&broken).contains("4 errors and 1 warning"));

    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("out");
    let out_arg = out_dir.to_str().unwrap();
    let render = platgen(&["render", "examples/minimal", "--out", out_arg, "-q"]);
    assert_eq!(
        (render.status.code(), stderr(&render)),
        (Some(0), String::new())
    );
    let verbose = platgen(&["render", "examples/minimal", "--out", out_arg, "--verbose"]);
    let text = stderr(&verbose);
    assert!(
        text.contains(&format!(
            "unchanged: {}",
            out_dir.join("compose.yaml").display()
        )),
        "{text}"
    );
    let verbose = platgen(&["check", "-v", "examples/minimal"]);
    assert!(
        stderr(&verbose).contains(" rules in "),
        "{}",
        stderr(&verbose)
    );
    // Warnings of the read-only commands show with -v only.
    assert!(!stderr(&platgen(&["ports"])).contains("PG204"));
    assert!(stderr(&platgen(&["ports", "-v"])).contains("warning[PG204]"));

    assert_eq!(platgen(&["check", "-q", "-v"]).status.code(), Some(2));
}

#[test]
fn render_phase_says_when_it_leaves_a_role_out() {
    let out = platgen(&["render", "--phase", "1", "--target", "kong", "--stdout"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains(
            "platgen: note: kong: nothing rendered, the gateway `kong` is in phase 2A, which --phase 1 leaves out"
        ),
        "{}",
        stderr(&out)
    );
    let out = platgen(&[
        "render",
        "examples/minimal",
        "--target",
        "nginx",
        "--stdout",
    ]);
    assert!(
        stderr(&out).contains("nginx: nothing rendered, the platform names no `roles.proxy`"),
        "{}",
        stderr(&out)
    );
}

// --- shell completions ----------------------------------------------------

fn completion_script(shell: &str) -> String {
    let script = ok(&["completions", shell]);
    assert!(script.len() > 1000, "{shell}: {script}");
    script
}

/// What bash offers after `words` (the last one being completed), run in `cwd`.
fn bash_complete(cwd: &Path, words: &[&str]) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("platgen.bash");
    fs::write(&script, completion_script("bash")).unwrap();
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let program = format!(
        "source '{}'\nCOMP_WORDS=({})\nCOMP_CWORD={}\nCOMP_LINE='{}'\nCOMP_POINT=${{#COMP_LINE}}\n_platgen platgen '{}' '{}'\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        script.display(),
        quoted.join(" "),
        words.len() - 1,
        words.join(" "),
        words[words.len() - 1],
        words[words.len() - 2],
    );
    let out = Command::new("bash")
        .arg("-c")
        .arg(program)
        .current_dir(cwd)
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

#[test]
fn bash_completes_commands_rule_names_and_no_file_names_for_phase() {
    let offered = bash_complete(&root(), &["platgen", ""]);
    for command in [
        "check",
        "render",
        "ports",
        "graph",
        "docs",
        "init",
        "completions",
        "man",
    ] {
        assert!(
            offered.iter().any(|o| o == command),
            "{command}: {offered:?}"
        );
    }
    let rules = bash_complete(&root(), &["platgen", "explain", ""]);
    for rule in platgen::check::all_rules() {
        assert!(
            rules.iter().any(|o| o == rule.name),
            "{}: {rules:?}",
            rule.name
        );
    }
    assert_eq!(
        bash_complete(&root(), &["platgen", "explain", "port-c"]),
        vec!["port-conflict".to_owned()]
    );
    // The repository root is full of files; none of them is a phase.
    let phase = bash_complete(&root(), &["platgen", "render", "--phase", ""]);
    assert!(phase.iter().all(String::is_empty), "{phase:?}");
    let phase = bash_complete(&root(), &["platgen", "render", "--phase", "Ca"]);
    assert!(!phase.iter().any(|o| o == "Cargo.toml"), "{phase:?}");
    // A spec is a file name.
    let spec = bash_complete(&root(), &["platgen", "check", "--format", "j"]);
    assert_eq!(spec, vec!["json".to_owned()]);
}

#[test]
#[ignore = "needs fish and zsh; .ci/run installs them and runs the ignored tests"]
fn fish_and_zsh_complete_rule_names_and_no_file_names_for_phase() {
    let dir = tempfile::tempdir().unwrap();
    let fish_script = dir.path().join("platgen.fish");
    fs::write(&fish_script, completion_script("fish")).unwrap();
    let fish = |line: &str| -> Vec<String> {
        let out = Command::new("fish")
            .arg("--no-config")
            .arg("-c")
            .arg(format!(
                "source '{}'; complete -C'{line}'",
                fish_script.display()
            ))
            .current_dir(root())
            .output()
            .expect("fish runs (apt-get install fish)");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| l.split('\t').next().unwrap_or("").to_owned())
            .collect()
    };
    let rules = fish("platgen explain ");
    for rule in platgen::check::all_rules() {
        assert!(
            rules.iter().any(|o| o == rule.name),
            "{}: {rules:?}",
            rule.name
        );
    }
    let phase = fish("platgen render --phase ");
    assert!(
        !phase.iter().any(|o| o == "Cargo.toml" || o == "src/"),
        "{phase:?}"
    );

    let zsh_script = dir.path().join("_platgen");
    fs::write(&zsh_script, completion_script("zsh")).unwrap();
    let out = Command::new("zsh")
        .arg("-n")
        .arg(&zsh_script)
        .output()
        .expect("zsh runs (apt-get install zsh)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let zsh = completion_script("zsh");
    assert!(zsh.contains("port-conflict"), "zsh offers no rule names");
    assert!(zsh.contains("--phase=[Render only the services"), "{zsh}");
}

#[test]
fn powershell_completion_names_every_command_and_rule() {
    let script = completion_script("powershell");
    assert!(script.contains("Register-ArgumentCompleter -Native -CommandName 'platgen'"));
    for command in [
        "check",
        "render",
        "ports",
        "graph",
        "docs",
        "init",
        "templates",
        "man",
    ] {
        assert!(
            script.contains(&format!("'platgen;{command}'")),
            "{command}"
        );
    }
}
