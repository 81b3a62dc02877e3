//! `depends_on` has no cycles.
//!
//! Why: services in a cycle wait for each other and none of them ever
//! starts; docker-compose refuses the file. The error prints the whole cycle
//! (`web -> api -> cache -> web`) and marks every link in it.
//!
//! Example:
//!
//! ```yaml
//! web:   {depends_on: [api]}
//! api:   {depends_on: [cache]}
//! cache: {depends_on: [web]}     # error: web -> api -> cache -> web
//! ```

use super::Context;
use crate::diag::{Diagnostic, Rule, Severity};
use crate::source::Span;

pub const RULE: Rule = Rule {
    code: "PG303",
    name: "dependency-cycle",
    severity: Severity::Error,
    source: include_str!("dependency_cycle.rs"),
};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mark {
    New,
    OnPath,
    Done,
}

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    // Edges by service index, self-edges and unknown services left out
    // (other rules report those); each edge keeps the span of its entry.
    let edges: Vec<Vec<(usize, Span)>> = cx
        .services
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut to: Vec<(usize, Span)> = Vec::new();
            for dep in &s.service().depends_on {
                if let Some(j) = cx.index_of(&dep.value)
                    && j != i
                    && !to.iter().any(|(k, _)| *k == j)
                {
                    to.push((j, dep.span));
                }
            }
            to
        })
        .collect();

    let mut mark = vec![Mark::New; cx.services.len()];
    for start in 0..cx.services.len() {
        if mark[start] != Mark::New {
            continue;
        }
        // Iterative depth-first search: (node, next edge to follow).
        let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
        mark[start] = Mark::OnPath;
        while let Some(&(node, next)) = stack.last() {
            if let Some(&(to, _)) = edges[node].get(next) {
                if let Some(top) = stack.last_mut() {
                    top.1 += 1;
                }
                match mark[to] {
                    Mark::New => {
                        mark[to] = Mark::OnPath;
                        stack.push((to, 0));
                    }
                    Mark::OnPath => {
                        let from = stack.iter().position(|(n, _)| *n == to).unwrap_or(0);
                        report(cx, &edges, &stack[from..], out);
                    }
                    Mark::Done => {}
                }
            } else {
                mark[node] = Mark::Done;
                stack.pop();
            }
        }
    }
}

/// Reports the cycle formed by `path` (each entry's edge index is one past
/// the edge it follows) and the edge from its last node back to its first.
fn report(
    cx: &Context,
    edges: &[Vec<(usize, Span)>],
    path: &[(usize, usize)],
    out: &mut Vec<Diagnostic>,
) {
    let names: Vec<&str> = path
        .iter()
        .map(|(n, _)| cx.services[*n].name.value.as_str())
        .collect();
    let links: Vec<Span> = path
        .iter()
        .map(|(n, next)| edges[*n][*next - 1].1)
        .collect();
    let first = names[0];
    let shown = format!("{} -> {first}", names.join(" -> "));
    let closing = links.len() - 1;
    let mut d = Diagnostic::new(&RULE, links[closing], format!("dependency cycle: {shown}"))
        .with_label(format!(
            "`{}` depends on `{first}`, closing the cycle",
            names[closing]
        ));
    for (i, span) in links.iter().enumerate().take(closing) {
        d = d.with_secondary(
            *span,
            format!("`{}` depends on `{}`", names[i], names[i + 1]),
        );
    }
    out.push(d.with_help("remove one of these dependencies; services in a cycle never start"));
}
