//! Any bytes as `platform.yaml`: parse, check, build the model, render every
//! target in memory. See `platgen_fuzz::pipeline` for what must hold.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    platgen_fuzz::pipeline(bytes);
});
