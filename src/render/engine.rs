//! The template engine: minijinja, configured for configuration files.
//!
//! - Auto-escaping is off: the outputs are YAML and Nginx, not HTML.
//! - Undefined values are `SemiStrict`: a misspelt variable in a template is
//!   an error, not an empty string in a config.
//! - The `yaml` filter writes any value as a YAML scalar or flow collection
//!   that no YAML reader can misread: strings are always double-quoted, so
//!   `NO`, `on`, `0755`, `1.0` or `12:30` stay strings.
//! - Errors name the template and the line, and never include minijinja's
//!   debug dump (which would print every variable, secrets' names included).

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use minijinja::syntax::SyntaxConfig;
use minijinja::value::Value;
use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde::Serialize;

/// The templates built into the binary: `(name, source)`.
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "compose/compose.yaml.j2",
        include_str!("../../templates/compose/compose.yaml.j2"),
    ),
    (
        "compose/env.j2",
        include_str!("../../templates/compose/env.j2"),
    ),
    (
        "compose/gitignore.j2",
        include_str!("../../templates/compose/gitignore.j2"),
    ),
    (
        "kubernetes/namespace.yaml.j2",
        include_str!("../../templates/kubernetes/namespace.yaml.j2"),
    ),
    (
        "kubernetes/network-policies.yaml.j2",
        include_str!("../../templates/kubernetes/network-policies.yaml.j2"),
    ),
    (
        "kubernetes/network-policy.j2",
        include_str!("../../templates/kubernetes/network-policy.j2"),
    ),
    (
        "kubernetes/pod.yaml.j2",
        include_str!("../../templates/kubernetes/pod.yaml.j2"),
    ),
    (
        "kubernetes/service.yaml.j2",
        include_str!("../../templates/kubernetes/service.yaml.j2"),
    ),
    (
        "kubernetes/kustomization.yaml.j2",
        include_str!("../../templates/kubernetes/kustomization.yaml.j2"),
    ),
    (
        "nginx/nginx.conf.j2",
        include_str!("../../templates/nginx/nginx.conf.j2"),
    ),
    (
        "prometheus/prometheus.yml.j2",
        include_str!("../../templates/prometheus/prometheus.yml.j2"),
    ),
    (
        "prometheus/alerts.yml.j2",
        include_str!("../../templates/prometheus/alerts.yml.j2"),
    ),
    (
        "prometheus/datasources.yml.j2",
        include_str!("../../templates/prometheus/datasources.yml.j2"),
    ),
    (
        "alertmanager/alertmanager.cfg.j2",
        include_str!("../../templates/alertmanager/alertmanager.cfg.j2"),
    ),
    (
        "kong/kong.yml.j2",
        include_str!("../../templates/kong/kong.yml.j2"),
    ),
    (
        "kong/credentials.sh.j2",
        include_str!("../../templates/kong/credentials.sh.j2"),
    ),
    (
        "kubernetes/rbac.yaml.j2",
        include_str!("../../templates/kubernetes/rbac.yaml.j2"),
    ),
    (
        "kubernetes/ingress.yaml.j2",
        include_str!("../../templates/kubernetes/ingress.yaml.j2"),
    ),
];

/// A template that failed to load or render.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    /// The template's name, e.g. `compose/compose.yaml.j2`.
    pub template: String,
    /// Where the template came from: built in, or a user's file.
    pub origin: Option<PathBuf>,
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = self.origin.as_ref().map_or_else(
            || format!("{} (built in)", self.template),
            |p| p.display().to_string(),
        );
        match self.line {
            Some(line) => write!(f, "template {shown}, line {line}: {}", self.message),
            None => write!(f, "template {shown}: {}", self.message),
        }
    }
}

impl std::error::Error for TemplateError {}

/// The configured template environment.
pub struct Engine {
    env: Environment<'static>,
    overrides: Option<PathBuf>,
}

impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Engine")
            .field("overrides", &self.overrides)
            .finish_non_exhaustive()
    }
}

/// `value | yaml`: the value as YAML that reads back exactly as it is:
/// strings double-quoted with JSON escapes (which are valid YAML escapes),
/// collections in flow style (`["a", "b"]`, `{"k": 1}`).
///
/// The filter runs for nearly every value of every file: it writes into a
/// buffer kept by the thread, so a result short enough to live inside the
/// returned value (most are) allocates nothing.
fn yaml_filter(value: &Value) -> Result<Value, minijinja::Error> {
    with_buffer(|out| match value.as_str() {
        Some(text) => {
            write_json_string(text, out);
            Ok(())
        }
        None => write_value(value, out),
    })
}

/// A value written by `write` into a buffer kept by the thread: the result
/// is copied once into the value (or into the value itself, when short),
/// without a `String` of its own to allocate and free.
fn with_buffer(
    write: impl FnOnce(&mut String) -> Result<(), minijinja::Error>,
) -> Result<Value, minijinja::Error> {
    thread_local! {
        static BUFFER: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
    }
    BUFFER.with(|buffer| {
        let Ok(mut out) = buffer.try_borrow_mut() else {
            let mut out = String::new();
            write(&mut out)?;
            return Ok(Value::from(out));
        };
        out.clear();
        write(&mut out)?;
        Ok(Value::from(out.as_str()))
    })
}

/// `entries | yaml_mapping(indent)`: a list of `{key, value}` as the lines
/// of a YAML block mapping, each indented by `indent` spaces and ending in a
/// newline, key and value written as the `yaml` filter writes them. The
/// lines a `for` loop printing `{{ e.key | yaml }}: {{ e.value | yaml }}`
/// writes, without the loop: a minijinja loop costs as much as a dozen
/// filter calls, and labels and selectors are written several times in
/// every manifest. `yaml_mapping(indent, "plain keys")` writes the keys as
/// they are (`{{ e.key }}`), for keys platgen itself chooses (annotation and
/// resource names). A positional argument rather than a keyword one: a
/// keyword argument costs more than the rest of the call.
fn yaml_mapping_filter(
    entries: &Value,
    indent: usize,
    keys: Option<&str>,
) -> Result<Value, minijinja::Error> {
    const SPACES: &str = "                                ";
    let plain_keys = match keys {
        None => false,
        Some("plain keys") => true,
        Some(other) => {
            return Err(minijinja::Error::new(
                minijinja::ErrorKind::InvalidOperation,
                format!("yaml_mapping: unknown key style {other:?} (\"plain keys\" or none)"),
            ));
        }
    };
    with_buffer(|out| {
        out.reserve(entries.len().unwrap_or(0) * (indent + 48));
        for entry in entries.try_iter()? {
            let (key, value) = (entry.get_attr("key")?, entry.get_attr("value")?);
            if key.is_undefined() || value.is_undefined() {
                return Err(minijinja::Error::new(
                    minijinja::ErrorKind::InvalidOperation,
                    "yaml_mapping needs a list of {key, value} entries",
                ));
            }
            match SPACES.get(..indent) {
                Some(spaces) => out.push_str(spaces),
                None => out.extend(std::iter::repeat_n(' ', indent)),
            }
            // Keys and values are nearly always strings: written as such
            // without going through the general writer.
            match (key.as_str(), value.as_str()) {
                (Some(key), Some(value)) if plain_keys => {
                    out.push_str(key);
                    out.push_str(": ");
                    write_json_string(value, out);
                }
                _ if plain_keys => {
                    use std::fmt::Write as _;
                    let _ = write!(out, "{key}: ");
                    write_value(&value, out)?;
                }
                (Some(key), Some(value)) => {
                    write_json_string(key, out);
                    out.push_str(": ");
                    write_json_string(value, out);
                }
                _ => {
                    write_value(&key, out)?;
                    out.push_str(": ");
                    write_value(&value, out)?;
                }
            }
            out.push('\n');
        }
        Ok(())
    })
}

/// Writes `{{ value }}` into the output: a string as it is, anything else as
/// minijinja's own formatter writes it. The same bytes as the default
/// formatter with auto-escaping off, without going through `Display` and
/// `fmt::write` for every string (most of what the templates print).
fn write_output(
    out: &mut minijinja::Output,
    state: &mut minijinja::State,
    value: &Value,
) -> Result<(), minijinja::Error> {
    match value.as_str() {
        Some(text) if state.auto_escape() == &AutoEscape::None => {
            out.write_str(text).map_err(minijinja::Error::from)
        }
        _ => minijinja::escape_formatter(out, state, value),
    }
}

/// Writes a template value as a YAML flow node, as [`write_flow`] writes it
/// once converted to JSON, without the conversion: the filter runs for
/// nearly every value of every file, and building a `serde_json::Value` for
/// each was a fifth of a large render. Values of kinds the templates do not
/// pass (bytes, floats, large integers, non-string keys) take the
/// conversion.
fn write_value(value: &Value, out: &mut String) -> Result<(), minijinja::Error> {
    use minijinja::value::ValueKind;
    match value.kind() {
        ValueKind::Undefined | ValueKind::None => out.push_str("null"),
        ValueKind::Bool => out.push_str(if value.is_true() { "true" } else { "false" }),
        ValueKind::String => {
            if let Some(text) = value.as_str() {
                write_json_string(text, out);
            } else {
                write_converted(value, out)?;
            }
        }
        ValueKind::Number if value.is_integer() && value.as_i64().is_some() => {
            if let Some(n) = value.as_i64() {
                out.push_str(&n.to_string());
            }
        }
        ValueKind::Seq => {
            out.push('[');
            for (i, item) in value.try_iter()?.enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_value(&item, out)?;
            }
            out.push(']');
        }
        ValueKind::Map => {
            let pairs = value
                .as_object()
                .and_then(minijinja::value::DynObject::try_iter_pairs);
            let Some(pairs) = pairs else {
                return write_converted(value, out);
            };
            let pairs: Vec<(Value, Value)> = pairs.collect();
            if pairs.iter().any(|(k, _)| k.as_str().is_none()) {
                return write_converted(value, out);
            }
            out.push('{');
            for (i, (k, v)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_json_string(k.as_str().unwrap_or_default(), out);
                out.push_str(": ");
                write_value(v, out)?;
            }
            out.push('}');
        }
        _ => write_converted(value, out)?,
    }
    Ok(())
}

/// The general way: the value as JSON, then as a flow node.
fn write_converted(value: &Value, out: &mut String) -> Result<(), minijinja::Error> {
    let json = serde_json::to_value(value).map_err(|e| {
        minijinja::Error::new(
            minijinja::ErrorKind::InvalidOperation,
            format!("cannot write as YAML: {e}"),
        )
    })?;
    write_flow(&json, out);
    Ok(())
}

/// A string as JSON writes it (and so a double-quoted YAML scalar): `"`
/// and `\` escaped, control characters as `\n`, `\t`, ... or `\u00XX`.
fn write_json_string(text: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.reserve(text.len() + 2);
    out.push('"');
    // Most strings have nothing to escape: one pass without early exit over
    // the bytes (which the compiler vectorises), then one copy.
    let escapes = text.bytes().fold(0u8, |any, b| {
        any | u8::from(b < 0x20) | u8::from(b == b'"') | u8::from(b == b'\\')
    });
    if escapes == 0 {
        out.push_str(text);
        out.push('"');
        return;
    }
    let mut start = 0;
    for (i, b) in text.bytes().enumerate() {
        let escape = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..0x20 => "",
            _ => continue,
        };
        out.push_str(&text[start..i]);
        if escape.is_empty() {
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        } else {
            out.push_str(escape);
        }
        start = i + 1;
    }
    out.push_str(&text[start..]);
    out.push('"');
}

/// Writes a JSON value as a YAML flow node.
pub fn write_flow(value: &serde_json::Value, out: &mut String) {
    match value {
        serde_json::Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_flow(item, out);
            }
            out.push(']');
        }
        serde_json::Value::Object(map) => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&serde_json::Value::String(k.clone()).to_string());
                out.push_str(": ");
                write_flow(v, out);
            }
            out.push('}');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// `value | nginx`: a value from the spec, written into an Nginx
/// configuration. Only URL-path characters pass; anything else (a space, a
/// quote, `;`, `{`, `}`, `$`) is an error, so no value can end a directive
/// and start another. The rules reject such values before rendering; this is
/// the second line of defence.
fn nginx_filter(value: &Value) -> Result<String, minijinja::Error> {
    let text = value.to_string();
    let safe = |c: char| c.is_ascii_alphanumeric() || "-._~%/:@+,=!*".contains(c);
    if !text.is_empty() && text.chars().all(safe) {
        Ok(text)
    } else {
        Err(minijinja::Error::new(
            minijinja::ErrorKind::InvalidOperation,
            format!("refusing to write {text:?} into an Nginx configuration"),
        ))
    }
}

/// Reads a user's template from `dir`, if it has one of that name. Names are
/// ours (`compose/compose.yaml.j2`) or come from the user's own includes;
/// names that climb out of the directory are refused.
fn user_template(dir: &Path, name: &str) -> Result<Option<String>, minijinja::Error> {
    if Path::new(name)
        .components()
        .any(|c| !matches!(c, std::path::Component::Normal(_)))
    {
        return Err(minijinja::Error::new(
            minijinja::ErrorKind::TemplateNotFound,
            format!("template names must stay inside the templates directory: {name:?}"),
        ));
    }
    let path = dir.join(name);
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(minijinja::Error::new(
            minijinja::ErrorKind::TemplateNotFound,
            format!("cannot read {}: {e}", path.display()),
        )),
    }
}

impl Engine {
    /// An engine with the built-in templates, each overridden by a file of the
    /// same relative name under `overrides`, when given.
    pub fn new(overrides: Option<&Path>) -> Self {
        let mut env = Environment::new();
        env.set_auto_escape_callback(|_| AutoEscape::None);
        env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
        if let Ok(syntax) = SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .keep_trailing_newline(true)
            .build()
        {
            env.set_syntax(syntax);
        }
        env.set_formatter(write_output);
        env.add_filter("yaml", yaml_filter);
        env.add_filter("yaml_mapping", yaml_mapping_filter);
        env.add_filter("nginx", nginx_filter);
        let builtin: BTreeMap<&'static str, &'static str> = BUILTIN.iter().copied().collect();
        let dir = overrides.map(Path::to_path_buf);
        let loader_dir = dir.clone();
        env.set_loader(move |name| {
            if let Some(dir) = &loader_dir
                && let Some(text) = user_template(dir, name)?
            {
                return Ok(Some(text));
            }
            Ok(builtin.get(name).map(|s| (*s).to_owned()))
        });
        Self {
            env,
            overrides: dir,
        }
    }

    /// Compiles every template now (minijinja keeps each for the render),
    /// so that another thread can do it while the spec is checked. A
    /// template that does not compile is left for the render to report.
    pub fn compile_all(&self) {
        for (name, _) in BUILTIN {
            let _ = self.env.get_template(name);
        }
    }

    /// Whether any template may come from the user's directory.
    pub fn has_overrides(&self) -> bool {
        self.overrides.is_some()
    }

    /// Where a template comes from: the user's file, or `None` when built in.
    fn origin(&self, name: &str) -> Option<PathBuf> {
        let path = self.overrides.as_ref()?.join(name);
        path.is_file().then_some(path)
    }

    /// The text of a template: the user's file, or the built-in one.
    fn source(&self, name: &str) -> Option<String> {
        self.origin(name)
            .and_then(|p| std::fs::read_to_string(p).ok())
            .or_else(|| {
                BUILTIN
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, s)| (*s).to_owned())
            })
    }

    fn error(&self, name: &str, e: &minijinja::Error) -> TemplateError {
        let template = e.name().unwrap_or(name).to_owned();
        let mut message = e.kind().to_string();
        if let Some(detail) = e.detail() {
            message = format!("{message}: {detail}");
        }
        // The template's own line says which expression failed; values are
        // never shown.
        if let Some(text) = e.line().and_then(|line| {
            self.source(&template)?
                .lines()
                .nth(line - 1)
                .map(|l| l.trim().to_owned())
        }) {
            message = format!("{message}\n    {text}");
        }
        TemplateError {
            origin: self.origin(&template),
            template,
            line: e.line(),
            message,
        }
    }

    /// Files in the overrides directory that are not one of platgen's
    /// templates: a misspelt override is otherwise silently unused.
    pub fn unused_overrides(&self) -> Vec<PathBuf> {
        let Some(dir) = &self.overrides else {
            return Vec::new();
        };
        let mut unused = Vec::new();
        let mut stack = vec![dir.clone()];
        while let Some(d) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&d) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else if let Ok(rel) = path.strip_prefix(dir) {
                    let name = rel.to_string_lossy().replace('\\', "/");
                    if !BUILTIN.iter().any(|(n, _)| *n == name) {
                        unused.push(path);
                    }
                }
            }
        }
        unused.sort();
        unused
    }

    /// Renders template `name` with `context`.
    pub fn render<C: Serialize>(&self, name: &str, context: &C) -> Result<String, TemplateError> {
        self.render_values(name, &Self::values(context))
    }

    /// A context as template values, for rendering several templates with
    /// one context: converting a context and freeing its values again is a
    /// large part of rendering it.
    pub fn values<C: Serialize>(context: &C) -> Value {
        Value::from(minijinja::value::Serde(context))
    }

    /// Renders template `name` with a context made by [`Engine::values`].
    pub fn render_values(&self, name: &str, context: &Value) -> Result<String, TemplateError> {
        let template = self
            .env
            .get_template(name)
            .map_err(|e| self.error(name, &e))?;
        template
            .render(context.clone())
            .map_err(|e| self.error(name, &e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_filter_quotes_every_string() {
        for s in [
            "NO",
            "on",
            "0755",
            "1.0",
            "1e3",
            "12:30",
            "~",
            "null",
            "a\nb",
            "say \"hi\"",
            "pa$word",
        ] {
            let out = yaml_filter(&Value::from(s)).unwrap().to_string();
            assert!(out.starts_with('"') && out.ends_with('"'), "{out}");
            let back: String = serde_json::from_str(&out).unwrap();
            assert_eq!(back, s);
        }
        assert_eq!(
            yaml_filter(&Value::from(8080)).unwrap().as_str(),
            Some("8080")
        );
        assert_eq!(
            yaml_filter(&Value::from(vec!["a", "b"])).unwrap().as_str(),
            Some(r#"["a", "b"]"#)
        );
    }

    #[test]
    fn yaml_mapping_writes_what_the_loop_writes() {
        let context = serde_json::json!({
            "entries": [
                {"key": "app.kubernetes.io/name", "value": "api"},
                {"key": "say \"hi\"", "value": 8080},
            ],
            "none": [],
            "bad": [{"key": "k"}],
        });
        let engine = Engine::new(None);
        let render = |source: &str| {
            engine
                .env
                .render_str(source, Value::from(minijinja::value::Serde(&context)))
        };
        let looped = render(
            "{% for e in entries %}\n    {{ e.key | yaml }}: {{ e.value | yaml }}\n{% endfor %}\n",
        )
        .unwrap();
        assert_eq!(render("{{ entries | yaml_mapping(4) }}").unwrap(), looped);
        assert!(looped.starts_with("    \"app.kubernetes.io/name\": \"api\"\n"));
        assert_eq!(render("{{ none | yaml_mapping(2) }}").unwrap(), "");
        assert!(render("{{ bad | yaml_mapping(2) }}").is_err());
        let plain =
            render("{% for e in entries %}\n    {{ e.key }}: {{ e.value | yaml }}\n{% endfor %}\n")
                .unwrap();
        assert_eq!(
            render("{{ entries | yaml_mapping(4, \"plain keys\") }}").unwrap(),
            plain
        );
        assert!(plain.starts_with("    app.kubernetes.io/name: \"api\"\n"));
        assert!(render("{{ entries | yaml_mapping(4, \"plain\") }}").is_err());
    }

    #[test]
    fn the_yaml_filter_writes_what_the_json_conversion_writes() {
        let mut text = String::from("plain é \\ \" ");
        for c in 0u8..0x20 {
            text.push(char::from(c));
        }
        text.push('\u{7f}');
        let values = [
            Value::from(text.as_str()),
            Value::from(-12),
            Value::from(u64::MAX),
            Value::from(1.5),
            Value::from(true),
            Value::from(()),
            Value::UNDEFINED,
            Value::from(vec![Value::from("a"), Value::from(2), Value::from(false)]),
            Value::from(minijinja::value::Serde(serde_json::json!({
                "k \"1\"": ["x", {"n": null, "m": 7}],
                "empty": [],
                "map": {},
            }))),
            Value::from(minijinja::value::Serde(std::collections::BTreeMap::from([
                (1, "one"),
                (2, "two"),
            ]))),
        ];
        for value in values {
            let mut expected = String::new();
            write_converted(&value, &mut expected).unwrap();
            assert_eq!(
                yaml_filter(&value).unwrap().as_str(),
                Some(expected.as_str()),
                "{value:?}"
            );
        }
    }

    #[test]
    fn the_output_formatter_writes_what_the_default_one_writes() {
        let source = "{{ s }}|{{ n }}|{{ f }}|{{ b }}|{{ z }}|{{ l }}|{{ m }}|\
                      {{ s | yaml }}|{{ l | yaml }}|{{ s | upper }}|{{ n ~ s }}";
        let context = serde_json::json!({
            "s": "a \"b\" é\n", "n": 7, "f": 1.5, "b": true, "z": null,
            "l": ["x", 2], "m": {"k": "v"},
        });
        let ours = Engine::new(None)
            .env
            .render_str(source, Value::from(minijinja::value::Serde(&context)))
            .unwrap();
        let mut default = Environment::new();
        default.set_auto_escape_callback(|_| AutoEscape::None);
        default.add_filter("yaml", yaml_filter);
        let expected = default
            .render_str(source, Value::from(minijinja::value::Serde(&context)))
            .unwrap();
        assert_eq!(ours, expected);
        assert!(ours.starts_with("a \"b\" é\n|7|1.5|"), "{ours}");
    }

    #[test]
    fn errors_name_the_template_and_line_without_variables() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("compose")).unwrap();
        std::fs::write(
            dir.path().join("compose/compose.yaml.j2"),
            "name: {{ project | yaml }}\nsecret: {{ not_there.field }}\n",
        )
        .unwrap();
        let engine = Engine::new(Some(dir.path()));
        let err = engine
            .render(
                "compose/compose.yaml.j2",
                &serde_json::json!({"project": "top-secret-value"}),
            )
            .unwrap_err();
        assert_eq!(err.template, "compose/compose.yaml.j2");
        assert_eq!(err.line, Some(2));
        assert!(err.origin.is_some());
        let shown = err.to_string();
        assert!(shown.contains("line 2"), "{shown}");
        assert!(!shown.contains("top-secret-value"), "{shown}");
    }

    #[test]
    fn the_nginx_filter_refuses_anything_that_could_start_a_directive() {
        assert_eq!(nginx_filter(&Value::from("/api/v1")).unwrap(), "/api/v1");
        assert_eq!(
            nginx_filter(&Value::from("nags-api:8080")).unwrap(),
            "nags-api:8080"
        );
        for bad in [
            "/api; return 200 x",
            "/a b",
            "/a\"b",
            "/a{",
            "/a}",
            "/$host",
            "/a\nb",
            "",
        ] {
            assert!(nginx_filter(&Value::from(bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn user_templates_cannot_climb_out() {
        let dir = tempfile::tempdir().unwrap();
        assert!(user_template(dir.path(), "../etc/passwd").is_err());
        assert_eq!(user_template(dir.path(), "compose/none.j2").unwrap(), None);
    }
}
