//! Specs of the right shape, built by `arbitrary` and written as YAML, through
//! the whole pipeline. A spec that renders must render the same bytes twice.
#![no_main]

use libfuzzer_sys::fuzz_target;
use platgen_fuzz::structured::SpecA;

fuzz_target!(|spec: SpecA| {
    let text = spec.to_yaml();
    if let Some(first) = platgen_fuzz::pipeline(text.as_bytes()) {
        let second = platgen_fuzz::pipeline(text.as_bytes());
        assert_eq!(Some(first), second, "two renders differ");
    }
});
