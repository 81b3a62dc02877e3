//! What a newcomer's first mistakes get: wrong indentation named as such,
//! an under-indented key recognised, an empty env value explained, compose's
//! `x-` anchors accepted, and errors inside `{path, size}` and
//! `{secret, file_env}` located at their value.

use platgen::check;
use platgen::diag::{Diagnostic, Position};
use platgen::source::SourceFile;

fn diagnostics(text: &str) -> (SourceFile, Vec<Diagnostic>) {
    let (source, outcome) = check::check_bytes("t.yaml", text.as_bytes());
    (source, outcome.diagnostics)
}

fn line(source: &SourceFile, d: &Diagnostic) -> usize {
    Position::of(source, d.primary.span).line
}

#[test]
fn wrong_indentation_is_named_and_the_line_before_is_shown() {
    for (text, at, before) in [
        (
            "name: demo\nservices:\n  api:\n    image: nginx:1.27.3\n     ports: []\n",
            5,
            4,
        ),
        (
            "name: demo\nservices:\n  api:\n    image: nginx:1.27.3\n    depends_on:\n      - a\n\n      # a comment\n     - b\n",
            9,
            6,
        ),
    ] {
        let (source, found) = diagnostics(text);
        assert_eq!(found.len(), 1, "{found:#?}");
        let d = &found[0];
        assert_eq!(d.code, "PG001");
        assert_eq!(line(&source, d), at);
        assert!(
            d.help
                .as_deref()
                .unwrap_or("")
                .contains("wrong indentation"),
            "{d:#?}"
        );
        let label = &d.secondary[0];
        assert_eq!(Position::of(&source, label.span).line, before, "{d:#?}");
        assert!(
            label.message.contains(&format!("line {at} is indented")),
            "{d:#?}"
        );
    }
    // A syntax error of another kind gets no such help.
    let (_, found) = diagnostics("name: demo\nservices: [\n");
    assert!(found[0].help.is_none(), "{found:#?}");
}

#[test]
fn an_under_indented_service_key_is_recognised_but_a_service_named_like_one_is_not() {
    let (source, found) = diagnostics(
        "name: demo\nservices:\n  api:\n    image: nginx:1.27.3\n  env:\n    GREETING: hello\n",
    );
    let first = &found[0];
    assert_eq!((first.code, line(&source, first)), ("PG005", 5));
    assert_eq!(
        first.help.as_deref(),
        Some(
            "did you mean `env` as a key of `api`? Every entry here can have a key `env`, so it is probably indented too little"
        )
    );
    assert_eq!(Position::of(&source, first.secondary[0].span).line, 3);
    // A service called `gateway` that is one (it has service keys) is just
    // missing its image.
    let (_, found) =
        diagnostics("name: demo\nservices:\n  gateway:\n    ports: [{container: 80}]\n");
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].help, None, "{found:#?}");
}

#[test]
fn an_empty_env_value_says_how_to_write_an_empty_string() {
    let (_, found) = diagnostics(
        "name: demo\nservices:\n  api:\n    image: nginx:1.27.3\n    env:\n      EMPTY:\n",
    );
    assert_eq!(found[0].code, "PG006");
    assert_eq!(
        found[0].help.as_deref(),
        Some("write `\"\"` for an empty string")
    );
}

#[test]
fn x_keys_at_the_top_hold_anchors_and_are_ignored() {
    let text = "x-base: &base\n  image: nginx:1.27.3\n  health: {tcp: {}}\n  ports: [{container: 80}]\nx-other: [1, 2]\nname: demo\nservices:\n  a:\n    <<: *base\n  b:\n    <<: *base\n";
    let (_, outcome) = check::check_bytes("t.yaml", text.as_bytes());
    assert!(outcome.diagnostics.is_empty(), "{:#?}", outcome.diagnostics);
    let platform = outcome.platform.unwrap();
    assert_eq!(platform.services.len(), 2);
    // Only at the top, and only `x-`: anything else is still unknown.
    let (_, found) = diagnostics("name: demo\ny-base: 1\nservices: {}\n");
    assert_eq!(found[0].code, "PG004", "{found:#?}");
    let (_, found) =
        diagnostics("name: demo\nservices:\n  a:\n    image: nginx:1.27.3\n    x-note: 1\n");
    assert!(found.iter().any(|d| d.code == "PG004"), "{found:#?}");
}

#[test]
fn errors_inside_the_mapping_forms_of_volumes_and_secrets_are_located() {
    let text = "name: demo\nservices:\n  api:\n    image: nginx:1.27.3\n    ports: [{container: 80}]\n    health: {tcp: {}}\n    volumes:\n      data: {path: data, size: 20GB}\n    secrets:\n      PASS: {secret: Bad_Name, file_env: \"bad name\"}\n";
    let (source, found) = diagnostics(text);
    let located: Vec<(&str, &str)> = found
        .iter()
        .map(|d| (d.code, source.slice(d.primary.span)))
        .collect();
    assert_eq!(
        located,
        [
            ("PG402", "data"),
            ("PG502", "20GB"),
            ("PG101", "Bad_Name"),
            ("PG103", "\"bad name\""),
        ],
        "{found:#?}"
    );
    assert_eq!(line(&source, &found[0]), 8);
    assert_eq!(line(&source, &found[3]), 10);
}
