//! The module graph of the macro is layered: a module imports modules of its own layer or of
//! the layers below, and no import cycle exists, not even inside a layer.
//!
//! Every module under `src/` (but `src/tests/`) is parsed; its imports are the `use`
//! declarations and the paths of two or more segments that name a module of the crate
//! (`crate::ir::Graph`, `super::Lowerer`, `emit::functions` from the parent of `emit`). A
//! submodule is in the layer of the top-level module that holds it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use syn::visit::Visit;

/// The layers, bottom up, and the top-level modules in each (`crate` is `lib.rs`).
const LAYERS: &[(&str, &[&str])] = &[
    ("types", &["types", "ops"]),
    ("arena", &["ir"]),
    ("building", &["shape", "build"]),
    (
        "rules and transforms",
        &["rules", "regions", "forward", "reverse", "jacobian"],
    ),
    ("frontend", &["ctxt", "args", "sig", "lower"]),
    ("emission", &["emit"]),
    ("expansion", &["fallback", "expand", "crate"]),
];

#[test]
fn imports_go_down_the_layers_without_cycles() {
    let graph = module_graph();
    let mut problems = Vec::new();
    for (module, imports) in &graph {
        let Some(own) = layer_of(module) else {
            problems.push(format!("`{module}` is in no layer: add it to `LAYERS`"));
            continue;
        };
        for imported in imports {
            match layer_of(imported) {
                Some(layer) if layer > own => problems.push(format!(
                    "`{module}` ({}) imports `{imported}` from a higher layer ({})",
                    LAYERS[own].0, LAYERS[layer].0
                )),
                _ => {}
            }
        }
    }
    if let Some(cycle) = find_cycle(&graph) {
        problems.push(format!("import cycle: {}", cycle.join(" -> ")));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The checks themselves, on graphs with a known answer.
#[test]
fn the_checks_catch_upward_imports_and_cycles() {
    let graph = |edges: &[(&str, &str)]| {
        let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (from, to) in edges {
            graph
                .entry((*from).to_owned())
                .or_default()
                .insert((*to).to_owned());
            graph.entry((*to).to_owned()).or_default();
        }
        graph
    };
    assert_eq!(find_cycle(&graph(&[("ir", "ops"), ("ops", "types")])), None);
    let cycle = find_cycle(&graph(&[("emit", "emit::fuse"), ("emit::fuse", "emit")]));
    assert_eq!(
        cycle.map(|c| c.len()),
        Some(3),
        "a cycle names its start twice"
    );
    assert!(layer_of("ops") < layer_of("ir"));
    assert_eq!(layer_of("lower::methods"), layer_of("lower"));
    assert_eq!(layer_of("nonexistent"), None);
    let mut imports = BTreeSet::new();
    let modules: BTreeSet<String> = ["lower", "lower::expr", "lower::syntax", "ir", "emit"]
        .map(str::to_owned)
        .into();
    collect_imports(
        "lower::expr",
        "use super::{Lowerer, Val}; use super::syntax::integer_literal; use crate::ir::Graph; \
         fn f() { let expr = 1; crate::emit::functions(expr); }",
        &modules,
        &mut imports,
    );
    let expected: BTreeSet<String> = ["lower", "lower::syntax", "ir", "emit"]
        .map(str::to_owned)
        .into();
    assert_eq!(imports, expected);
}

/// The index in [`LAYERS`] of the layer holding `module`.
fn layer_of(module: &str) -> Option<usize> {
    let top = module.split("::").next().unwrap_or(module);
    LAYERS
        .iter()
        .position(|(_, modules)| modules.contains(&top))
}

/// Every module of the crate with the modules it imports.
fn module_graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let files: Vec<(String, PathBuf)> = files
        .into_iter()
        .filter(|file| !file.starts_with(src.join("tests")))
        .map(|file| (module_path(&src, &file), file))
        .collect();
    let modules: BTreeSet<String> = files.iter().map(|(module, _)| module.clone()).collect();
    let mut graph = BTreeMap::new();
    for (module, file) in &files {
        let text = std::fs::read_to_string(file).expect("a source file is readable");
        let mut imports = BTreeSet::new();
        collect_imports(module, &text, &modules, &mut imports);
        graph.insert(module.clone(), imports);
    }
    graph
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("the source directory is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
}

/// `ir` for `src/ir.rs`, `lower` for `src/lower/mod.rs`, `lower::expr` for
/// `src/lower/expr.rs`, `crate` for `src/lib.rs`.
fn module_path(src: &Path, file: &Path) -> String {
    let relative = file.strip_prefix(src).expect("a file under src");
    let mut parts: Vec<String> = relative
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|last| last == "mod") {
        parts.pop();
    }
    match parts.as_slice() {
        [lib] if lib == "lib" => "crate".to_owned(),
        _ => parts.join("::"),
    }
}

/// The modules of `modules` that the source `text` of `module` imports (itself excluded).
fn collect_imports(
    module: &str,
    text: &str,
    modules: &BTreeSet<String>,
    out: &mut BTreeSet<String>,
) {
    let file = syn::parse_file(text).expect("a source file parses");
    let here: Vec<String> = if module == "crate" {
        Vec::new()
    } else {
        module.split("::").map(str::to_owned).collect()
    };
    let mut imports = Imports {
        scope: here,
        modules,
        found: BTreeSet::new(),
    };
    imports.visit_file(&file);
    out.extend(
        imports
            .found
            .into_iter()
            .filter(|imported| imported != module),
    );
}

/// Finds the crate modules named by `use` trees and paths, inside a module `scope`.
struct Imports<'a> {
    /// The module the code being visited is in (a file's module, then its inline modules).
    scope: Vec<String>,
    modules: &'a BTreeSet<String>,
    found: BTreeSet<String>,
}

impl Imports<'_> {
    /// Records the module that `segments`, written in `self.scope`, names, if it names one.
    fn resolve(&mut self, segments: &[String]) {
        let Some(first) = segments.first() else {
            return;
        };
        let mut absolute: Vec<String> = match first.as_str() {
            "crate" => Vec::new(),
            "self" => self.scope.clone(),
            "super" => {
                let mut parent = self.scope.clone();
                let mut rest = segments;
                while rest.first().is_some_and(|s| s == "super") {
                    parent.pop();
                    rest = &rest[1..];
                }
                parent.extend(rest.iter().cloned());
                return self.record(parent);
            }
            child if self.is_module(&[self.scope.clone(), vec![child.to_owned()]].concat()) => {
                self.scope.clone()
            }
            _ => return,
        };
        let skip = usize::from(matches!(first.as_str(), "crate" | "self"));
        absolute.extend(segments[skip..].iter().cloned());
        self.record(absolute);
    }

    /// Records the longest prefix of `path` that is a module of the crate.
    fn record(&mut self, path: Vec<String>) {
        for len in (0..=path.len()).rev() {
            if self.is_module(&path[..len]) {
                let module = if len == 0 {
                    "crate".to_owned()
                } else {
                    path[..len].join("::")
                };
                self.found.insert(module);
                return;
            }
        }
    }

    fn is_module(&self, path: &[String]) -> bool {
        path.is_empty() || self.modules.contains(&path.join("::"))
    }

    /// Every path a `use` tree spells, as segments.
    fn use_paths(tree: &syn::UseTree, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        match tree {
            syn::UseTree::Path(path) => {
                prefix.push(path.ident.to_string());
                Self::use_paths(&path.tree, prefix, out);
                prefix.pop();
            }
            syn::UseTree::Name(name) => {
                out.push([prefix.clone(), vec![name.ident.to_string()]].concat());
            }
            syn::UseTree::Rename(rename) => {
                out.push([prefix.clone(), vec![rename.ident.to_string()]].concat());
            }
            syn::UseTree::Glob(_) => out.push(prefix.clone()),
            syn::UseTree::Group(group) => {
                for tree in &group.items {
                    Self::use_paths(tree, prefix, out);
                }
            }
        }
    }
}

impl<'ast> Visit<'ast> for Imports<'_> {
    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        let mut paths = Vec::new();
        Self::use_paths(&item.tree, &mut Vec::new(), &mut paths);
        for path in paths {
            self.resolve(&path);
        }
    }

    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        self.scope.push(item.ident.to_string());
        syn::visit::visit_item_mod(self, item);
        self.scope.pop();
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        // A one-segment path is a local name (`expr`), never a module.
        if path.segments.len() >= 2 {
            let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
            self.resolve(&segments);
        }
        syn::visit::visit_path(self, path);
    }
}

/// An import cycle, as the modules along it (the first one again at the end), if any.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    fn visit(
        graph: &BTreeMap<String, BTreeSet<String>>,
        module: &str,
        marks: &mut BTreeMap<String, Mark>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match marks.get(module) {
            Some(Mark::Done) => return None,
            Some(Mark::Open) => {
                let start = path.iter().position(|m| m == module).unwrap_or(0);
                let mut cycle = path[start..].to_vec();
                cycle.push(module.to_owned());
                return Some(cycle);
            }
            None => {}
        }
        marks.insert(module.to_owned(), Mark::Open);
        path.push(module.to_owned());
        for imported in graph.get(module).into_iter().flatten() {
            if let Some(cycle) = visit(graph, imported, marks, path) {
                return Some(cycle);
            }
        }
        path.pop();
        marks.insert(module.to_owned(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    graph
        .keys()
        .find_map(|module| visit(graph, module, &mut marks, &mut Vec::new()))
}
