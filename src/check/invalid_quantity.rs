//! `resources.cpu`, `resources.memory` and volume sizes are Kubernetes
//! quantities: `500m`, `1` or `0.5` CPUs; `512Mi`, `1Gi` or `1G` of memory
//! or storage.
//!
//! Why: platgen turns them into Kubernetes requests and limits and into
//! docker-compose limits (`cpus: "0.5"`, `memory: 536870912`); a value that
//! is not a quantity would be rejected by both, or worse, `512MB` would be
//! read differently by each.
//!
//! Example:
//!
//! ```yaml
//! resources: {cpu: half, memory: 512MB}   # two errors
//! ```

use super::Selection;
use crate::diag::{Diagnostic, Rule, Severity};
use crate::quantity;

pub const RULE: Rule = Rule {
    code: "PG502",
    name: "invalid-quantity",
    severity: Severity::Error,
    source: include_str!("invalid_quantity.rs"),
};

pub fn check(cx: &Selection, out: &mut Vec<Diagnostic>) {
    for s in cx.checked() {
        for spec in s.service().volumes.values() {
            let Some(size) = spec.value.size() else {
                continue;
            };
            match quantity::memory_bytes(size) {
                Ok(0) => out.push(
                    Diagnostic::new(&RULE, size.span, "a volume size of zero")
                        .with_label("must be positive"),
                ),
                Ok(_) => {}
                Err(p) => out.push(
                    Diagnostic::new(&RULE, size.span, p.replace("memory amount", "storage size"))
                        .with_label("not a size"),
                ),
            }
        }
        let Some(r) = &s.service().resources else {
            continue;
        };
        if let Some(cpu) = &r.value.cpu {
            match quantity::cpu_millis(&cpu.value.0) {
                Ok(0) => out.push(
                    Diagnostic::new(
                        &RULE,
                        cpu.span,
                        format!("`resources.cpu` of `{}` is zero", s.name.value),
                    )
                    .with_label("must be positive"),
                ),
                Ok(_) => {}
                Err(p) => {
                    out.push(Diagnostic::new(&RULE, cpu.span, p).with_label("not a CPU amount"));
                }
            }
        }
        if let Some(memory) = &r.value.memory {
            match quantity::memory_bytes(memory) {
                Ok(bytes) if bytes < 6 << 20 => out.push(
                    Diagnostic::new(
                        &RULE,
                        memory.span,
                        format!("`resources.memory` of `{}` is below 6Mi, the least a container can run with", s.name.value),
                    )
                    .with_label("too little memory")
                    .with_help("did you forget the suffix, as in `512Mi`?"),
                ),
                Ok(_) => {}
                Err(p) => out.push(Diagnostic::new(&RULE, memory.span, p).with_label("not a memory amount")),
            }
        }
    }
}
