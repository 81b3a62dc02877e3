//! The fuzz targets' findings, one fixture each under `tests/fixtures/fuzz/`
//! (the header of each says what went wrong): each is reported as a located
//! problem or renders, and what it renders reads back strictly.

use platgen::check;

use crate::render::{check_compose, check_kubernetes, render_all};
use crate::support::display;

#[test]
fn every_fuzz_finding_checks_and_renders() {
    insta::glob!("../fixtures", "fuzz/*.yaml", |path| {
        let name = display(path);
        let (_, outcome) = check::check_bytes(&name, &std::fs::read(path).unwrap());
        let Some(platform) = outcome.platform else {
            assert!(outcome.has_errors(), "{name}: no platform and no error");
            return;
        };
        let files = render_all(&platform);
        check_compose(&platform, &files, &name);
        check_kubernetes(&platform, &files, &name);
        let compose = &files
            .iter()
            .find(|f| f.path == "compose.yaml")
            .unwrap()
            .contents;
        insta::assert_snapshot!("compose", compose);
    });
}
