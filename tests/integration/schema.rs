//! The committed JSON Schema is the one the code generates.

use crate::support::{platgen, root, stdout};

#[test]
fn committed_schema_is_up_to_date() {
    let out = platgen(&["schema"]);
    assert!(out.status.success());
    let generated = stdout(&out);
    let committed =
        std::fs::read_to_string(root().join("platform.schema.json")).unwrap_or_default();
    assert!(
        committed == generated,
        "platform.schema.json is stale: run `cargo run -- schema > platform.schema.json`"
    );
}

#[test]
fn schema_is_json_schema_2020_12_with_descriptions() {
    let schema: serde_json::Value = serde_json::from_str(&stdout(&platgen(&["schema"]))).unwrap();
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    assert_eq!(schema["additionalProperties"], false);
    let service = &schema["$defs"]["Service"]["properties"];
    for key in [
        "phase",
        "image",
        "ports",
        "depends_on",
        "health",
        "metrics",
        "route",
        "gateway",
        "env",
        "secrets",
        "volumes",
        "replicas",
        "autoscale",
        "resources",
        "command",
    ] {
        assert!(
            service[key]["description"].is_string(),
            "service key `{key}` is undocumented"
        );
    }
}

#[test]
fn root_platform_points_editors_at_the_schema() {
    let text = std::fs::read_to_string(root().join("platform.yaml")).unwrap();
    assert!(text.starts_with("# yaml-language-server: $schema=platform.schema.json\n"));
}
