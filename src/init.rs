//! `platgen init [DIR]`: a starter `platform.yaml` small enough to read in
//! a minute, with a comment on every key a newcomer would ask about, and
//! the JSON Schema next to it so that the schema modeline works offline and
//! matches this platgen. The starter passes `platgen check --deny-warnings`
//! and renders (the tests hold it to that).

use std::path::Path;

use crate::check::invalid_name;
use crate::scaffold::NewFile;

/// The name a platform gets when the directory's name makes none.
pub const FALLBACK_NAME: &str = "my-platform";

/// A platform name made from a directory's name (`My App` -> `my-app`).
pub fn name_for(dir: &Path) -> String {
    let absolute = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    absolute
        .file_name()
        .and_then(|n| invalid_name::sanitized(&n.to_string_lossy()))
        .unwrap_or_else(|| FALLBACK_NAME.to_owned())
}

const STARTER: &str = include_str!("init/platform.yaml");

/// The starter spec for a platform called `name` (a valid platform name).
pub fn starter(name: &str) -> String {
    STARTER.replace("{name}", name)
}

/// What `init` writes: the spec and the schema its first line points at.
pub fn files(name: &str) -> Vec<NewFile> {
    let mut schema = serde_json::to_string_pretty(&crate::spec::json_schema()).unwrap_or_default();
    schema.push('\n');
    vec![
        NewFile {
            path: "platform.yaml".to_owned(),
            contents: starter(name),
        },
        NewFile {
            path: "platform.schema.json".to_owned(),
            contents: schema,
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_the_directory() {
        assert_eq!(name_for(Path::new("/srv/My App")), "my-app");
        assert_eq!(name_for(Path::new("/srv/shop_2")), "shop-2");
        assert_eq!(name_for(Path::new("/srv/2024")), FALLBACK_NAME);
        assert_eq!(name_for(Path::new("/")), FALLBACK_NAME);
    }

    #[test]
    fn the_starter_is_a_clean_platform() {
        let source = crate::source::SourceFile::new("platform.yaml", starter("shop"));
        let outcome = crate::check::check(&source);
        assert!(
            outcome.diagnostics.is_empty(),
            "{:?}",
            outcome
                .diagnostics
                .iter()
                .map(|d| &d.message)
                .collect::<Vec<_>>()
        );
        let platform = outcome.platform.expect("a platform");
        assert_eq!(platform.name, "shop");
        assert_eq!(platform.roles.proxy.as_deref(), Some("proxy"));
    }
}
