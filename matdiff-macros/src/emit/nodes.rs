//! Writing nodes: one `let` per node, a loop or branch as a block over its regions, a `.map()`
//! as a closure, chains of entry updates in place, and the groups `fuse.rs` computes together.
//! These call each other (a region's body is nodes again), so they live together here.

use super::fuse::{self, Fusion, Uses};
use super::names::{
    by_reference, capacity_tokens, closure_var, depth_name, dim, elem_type, nested, sym_int,
    value_type, var, var_named, zero_value,
};
use super::ops;
use crate::ir::{tape_capacity, Graph, Id, ScalarFn, Ty};
use crate::ops::{InverseCheck, LoopSpec, Op, Solver};
use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::quote;
use std::collections::HashMap;

/// The statements computing `id` together with the nodes fused with it (`fuse.rs`), and those
/// nodes; `None` when `id` is written on its own.
pub(super) fn fused(
    g: &Graph,
    live: &[bool],
    uses: &Uses,
    id: Id,
) -> Option<(TokenStream, Vec<Id>)> {
    match fuse::fused(g, live, uses, id)? {
        Fusion::Maps(group) => Some((fused_maps(g, &group), group)),
        Fusion::Written(tokens, members) => Some((tokens, members)),
        Fusion::Before(tokens) => {
            let own = computed(g, id, var);
            Some((quote!(#tokens #own), vec![id]))
        }
    }
}

/// The user's operations that can panic (`try_inverse().unwrap()`, calls): every generated
/// function evaluates them, needed or not, so it panics wherever the user's function does.
pub(super) fn checks(g: &Graph) -> impl Iterator<Item = Id> + '_ {
    g.ids().take(g.primal_len).filter(|&id| is_check(g, id))
}

/// Whether evaluating `id` can panic as the user's function does: an inverse, a call, an
/// `assert!`, or a loop or branch whose body holds one.
fn is_check(g: &Graph, id: Id) -> bool {
    let holds_check = |region: usize| {
        let body = &g.regions[region].graph;
        body.ids().any(|inner| is_check(body, inner))
    };
    match g.op(id) {
        Op::Inverse(InverseCheck::Unwrap | InverseCheck::Expect(_)) | Op::Call(_) => true,
        Op::Solve(Solver::Lu(InverseCheck::Unwrap | InverseCheck::Expect(_))) => true,
        Op::Cholesky(_) => true,
        Op::Assert(_) => true,
        Op::Loop(spec) => holds_check(spec.region),
        Op::Cond(spec) => holds_check(spec.then_region) || holds_check(spec.else_region),
        _ => false,
    }
}

/// `let` for a node computed from earlier ones, named by `name`.
pub(super) fn computed(g: &Graph, id: Id, name: fn(Id) -> Ident) -> TokenStream {
    let node = g.node(id);
    let ty = value_type(g.elem, &node.ty);
    if matches!(node.op, Op::Loop(_) | Op::Cond(_)) {
        let var = name(id);
        let expr = region_node(g, id, name);
        return quote!(let #var: #ty = #expr;);
    }
    let operands: Vec<TokenStream> = node
        .args
        .iter()
        .map(|&a| {
            let v = name(a);
            quote!(#v)
        })
        .collect();
    let expr = match node.op {
        Op::Map(f) => {
            let (m, closure) = (&operands[0], scalar_closure(g, f));
            quote!(#m.map(#closure))
        }
        _ => ops::expression(g, &node.op, id, &quote!(<#ty>), &operands),
    };
    let var = name(id);
    if by_reference(&node.ty) {
        quote!(let #var: &#ty = &(#expr);)
    } else {
        quote!(let #var: #ty = #expr;)
    }
}

/// The expression of a loop or branch node: a block computing the tuple of its results.
fn region_node(g: &Graph, id: Id, name: fn(Id) -> Ident) -> TokenStream {
    let node = g.node(id);
    let operands: Vec<Ident> = node.args.iter().map(|&a| name(a)).collect();
    match &node.op {
        Op::Loop(spec) => loop_block(g, spec, &operands, &fields_used(g, id)),
        Op::Cond(spec) => {
            let condition = &operands[0];
            let captures = &operands[1..];
            let none = HashMap::new();
            let (then_region, else_region) = (spec.then_region, spec.else_region);
            let all = vec![true; g.regions[then_region].outputs.len()];
            let then_block = nested(|| region_block(g, then_region, captures, &[], &none, &all));
            let else_block = nested(|| region_block(g, else_region, captures, &[], &none, &all));
            quote!(if #condition #then_block else #else_block)
        }
        _ => unreachable!("only loops and branches own regions"),
    }
}

/// `for k in 0..trip { i = start + step k; carried = body(i, k, carried, captures) }`, the
/// carried values copied into stack arrays at the start of each iteration when taped.
fn loop_block(g: &Graph, spec: &LoopSpec, operands: &[Ident], used: &[bool]) -> TokenStream {
    let code = loop_code(g, spec, operands, "", used);
    let (declare, iteration, results) = (&code.declare, &code.iteration, &code.results);
    let head = loop_head(spec);
    quote!({
        #declare
        #head {
            #iteration
        }
        #results
    })
}

/// Two loops over the same range, the second independent of the first, run as one: a loss
/// accumulated in a loop and the accumulation of its gradient. The value is the pair of the
/// loops' tuples.
pub(super) fn fused_loop_block(
    g: &Graph,
    (first, first_operands, first_id): (&LoopSpec, &[Ident], Id),
    (second, second_operands, second_id): (&LoopSpec, &[Ident], Id),
) -> TokenStream {
    let a = loop_code(g, first, first_operands, "", &fields_used(g, first_id));
    let b = loop_code(g, second, second_operands, "r", &fields_used(g, second_id));
    let head = loop_head(first);
    let (declare_a, iteration_a, results_a) = (&a.declare, &a.iteration, &a.results);
    let (declare_b, iteration_b, results_b) = (&b.declare, &b.iteration, &b.results);
    quote!({
        #declare_a
        #declare_b
        #head {
            #iteration_a
            #iteration_b
        }
        (#results_a, #results_b)
    })
}

/// Whether two loops run over the same indices in the same order.
pub(super) fn same_range(a: &LoopSpec, b: &LoopSpec) -> bool {
    (&a.start, a.step, &a.trip, a.backward) == (&b.start, b.step, &b.trip, b.backward)
}

/// `for k in ..` and `let i = start + step k;`.
fn loop_head(spec: &LoopSpec) -> TokenStream {
    let (counter, trip) = (depth_name("__k", None), sym_int(&spec.trip));
    if spec.backward {
        quote!(for #counter in (0..#trip.max(0)).rev())
    } else {
        quote!(for #counter in 0..#trip.max(0))
    }
}

/// A loop's code around its `for`: the carried variables and tapes it declares, one
/// iteration, and its tuple of results. Names start with `prefix`, so that two loops can
/// share one `for`.
struct LoopCode {
    declare: TokenStream,
    iteration: TokenStream,
    results: TokenStream,
}

/// Which components of the tuple that loop `id` computes have a `Field` reading them: its
/// own, and for a taped loop (written in place of its untaped twin) the twin's too.
fn fields_used(g: &Graph, id: Id) -> Vec<bool> {
    let Ty::Tuple(items) = g.ty(id) else {
        return Vec::new();
    };
    let args = &g.node(id).args;
    let twins: Vec<Id> = match (g.op(id), args.first()) {
        (Op::Loop(spec), Some(&first)) => g
            .users_of(first)
            .iter()
            .copied()
            .filter(|&other| {
                matches!(g.op(other), Op::Loop(s) if s.region == spec.region)
                    && &g.node(other).args == args
            })
            .collect(),
        _ => vec![id],
    };
    let mut used = vec![false; items.len()];
    for &twin in &twins {
        for &field in g.users_of(twin) {
            if let Op::Field(k) = g.op(field) {
                if *k < used.len() {
                    used[*k] = true;
                }
            }
        }
    }
    used
}

/// The carried values a loop must compute: those read after it (`used`, by component of its
/// tuple), those it tapes, and those an iteration of a needed one reads. A gradient's tangent
/// loop carries the gradient along with its tangent; the Hessian-vector product reads only
/// the tangent, and the gradient is not computed.
fn needed_carries(g: &Graph, spec: &LoopSpec, used: &[bool]) -> Vec<bool> {
    let n = spec.n_carries;
    let wanted: Vec<bool> = (0..n)
        .map(|j| used.get(j).copied().unwrap_or(true) || spec.tape.get(j) == Some(&true))
        .collect();
    crate::regions::carries_read(&g.regions[spec.region], n, wanted, |_| true)
}

fn loop_code(
    g: &Graph,
    spec: &LoopSpec,
    operands: &[Ident],
    prefix: &str,
    used: &[bool],
) -> LoopCode {
    let region = &g.regions[spec.region];
    let n = spec.n_carries;
    let needed = needed_carries(g, spec, used);
    let (inits, captures) = operands.split_at(n);
    let counter = depth_name("__k", None);
    let name = |what: &str, j: Option<usize>| depth_name(&format!("__{prefix}{what}"), j);
    let carried: Vec<Ident> = (0..n).map(|j| name("s", Some(j))).collect();
    let tapes: Vec<Ident> = (0..n).map(|j| name("tape", Some(j))).collect();
    let carried_tys: Vec<&Ty> = region.params[2..2 + n].iter().collect();
    let declare = carried
        .iter()
        .zip(inits)
        .zip(&carried_tys)
        .zip(&needed)
        .filter(|(_, &needed)| needed)
        .map(|(((s, init), ty), _)| {
            let value_ty = value_type(g.elem, ty);
            if by_reference(ty) {
                quote!(let mut #s: #value_ty = *#init;)
            } else {
                quote!(let mut #s: #value_ty = #init;)
            }
        });
    let taped: Vec<usize> = spec.taped().collect();
    let tapes: Vec<&Ident> = taped.iter().map(|&j| &tapes[j]).collect();
    let recorded: Vec<&Ident> = taped.iter().map(|&j| &carried[j]).collect();
    let capacity = tape_capacity(&spec.trip).map(|cap| capacity_tokens(&cap));
    let declare_tapes = taped.iter().zip(&tapes).map(|(&j, tape)| {
        let (value_ty, zero) = (
            value_type(g.elem, carried_tys[j]),
            zero_value(g.elem, carried_tys[j]),
        );
        quote!(let mut #tape: [#value_ty; #capacity] = [#zero; #capacity];)
    });
    // The index `i = start + step k`, written where the body reads it.
    let (start, step) = (sym_int(&spec.start), Literal::i64_suffixed(spec.step));
    let index = quote!((#start + #step * #counter));
    let mut params: Vec<TokenStream> = vec![index, quote!(#counter)];
    params.extend(carried.iter().zip(&carried_tys).map(|(s, ty)| {
        if by_reference(ty) {
            quote!(&#s)
        } else {
            quote!(#s)
        }
    }));
    params.extend(captures.iter().map(|c| quote!(#c)));
    let in_place = in_place_updates(&region.graph, &region.outputs, &carried, &needed);
    let body = nested(|| region_block(g, spec.region, &[], &params, &in_place, &needed));
    let next = name("next", None);
    let update = carried.iter().enumerate().filter_map(|(j, s)| {
        if !needed[j] || in_place.contains_key(&region.outputs[j]) {
            return None;
        }
        let j = Literal::usize_unsuffixed(j);
        Some(quote!(#s = #next.#j;))
    });
    LoopCode {
        declare: quote!(#(#declare)* #(#declare_tapes)*),
        iteration: quote! {
            #(#tapes[#counter as usize] = #recorded;)*
            let #next = #body;
            #(#update)*
        },
        results: {
            // A carried value nothing needs is not computed; the tuple keeps its type.
            let carried = carried
                .iter()
                .zip(&needed)
                .zip(&carried_tys)
                .map(|((s, &on), ty)| {
                    if on {
                        quote!(#s)
                    } else {
                        zero_value(g.elem, ty)
                    }
                });
            quote!((#(#carried,)* #(#tapes,)*))
        },
    }
}

/// For a loop whose gradient also runs it taped (to record what its reverse sweep reads):
/// that taped copy, if it is live. It computes the same values and is written in the loop's
/// place, so the loop runs once.
pub(super) fn taped_twin(g: &Graph, live: &[bool], id: Id) -> Option<Id> {
    let Op::Loop(spec) = g.op(id) else {
        return None;
    };
    if !spec.tape.is_empty() {
        return None;
    }
    let args = &g.node(id).args;
    let first = *args.first()?;
    g.users_of(first).iter().copied().find(|&other| {
        other > id
            && live[other.index()]
            && &g.node(other).args == args
            && matches!(g.op(other), Op::Loop(s) if !s.tape.is_empty() && s.region == spec.region)
    })
}

/// `let loop = (taped.0, .., taped.n-1);`: the loop's carried values from its taped copy.
pub(super) fn from_taped_twin(g: &Graph, id: Id, taped: Id) -> TokenStream {
    let Op::Loop(spec) = g.op(id) else {
        unreachable!("only loops have taped copies")
    };
    let (name, from, ty) = (var(id), var(taped), value_type(g.elem, g.ty(id)));
    let fields = (0..spec.n_carries).map(Literal::usize_unsuffixed);
    quote!(let #name: #ty = (#(#from.#fields,)*);)
}

/// The carried matrices a loop body updates entry by entry (`m[(i, j)] += s`, the
/// accumulating adjoint of indexing) can be updated in place: each such output is a chain of
/// `AddAt`/`SetAt`/`AddBlock`/`SetBlock` on the carried parameter, whose intermediate values
/// nothing else reads, and which every other reader of the parameter precedes. Returns the
/// chain's nodes, each with the carried variable it updates.
fn in_place_updates(
    body: &Graph,
    outputs: &[Id],
    carried: &[Ident],
    needed: &[bool],
) -> HashMap<Id, Ident> {
    let outputs: Vec<Id> = outputs
        .iter()
        .zip(needed)
        .filter_map(|(&out, &on)| on.then_some(out))
        .collect();
    let live = body.reachable(outputs.iter().copied().chain(checks(body)));
    let uses = Uses::count(body, &live, &outputs);
    let mut in_place = HashMap::new();
    let needed_carried = carried
        .iter()
        .zip(needed)
        .enumerate()
        .filter(|(_, (_, &on))| on);
    for ((j, (name, _)), &output) in needed_carried.zip(&outputs) {
        let mut chain = Vec::new();
        let mut node = output;
        while matches!(
            body.op(node),
            Op::AddAt | Op::SetAt | Op::AddBlock | Op::SetBlock
        ) && uses.of(node) == 1
        {
            chain.push(node);
            node = body.node(node).args[0];
        }
        let (Some(&first), true) = (chain.last(), body.op(node) == &Op::Param(2 + j)) else {
            continue;
        };
        let read_later = body
            .ids()
            .any(|id| live[id.index()] && id > first && body.node(id).args.contains(&node));
        if read_later {
            continue;
        }
        for id in chain {
            in_place.insert(id, name.clone());
        }
    }
    in_place
}

/// Chains of entry and block updates (`AddAt`, `SetAt`, ..) each of whose intermediate
/// values only the next update reads: the adjoint of a loop unrolled over `x[i]` is such a
/// chain. Each is written as one `let mut` matrix updated in place, instead of a copy per
/// update. Maps every member to the chain's variable and whether it starts or ends it.
pub(super) fn scatter_chains(
    g: &Graph,
    live: &[bool],
    uses: &Uses,
    skip: &HashMap<Id, Ident>,
) -> HashMap<Id, ChainLink> {
    let is_update = |id: Id| {
        matches!(
            g.op(id),
            Op::AddAt | Op::SetAt | Op::AddBlock | Op::SetBlock
        ) && !skip.contains_key(&id)
    };
    let continues = |id: Id| {
        uses.consumer(id)
            .is_some_and(|next| is_update(next) && g.node(next).args[0] == id)
    };
    let mut links: HashMap<Id, ChainLink> = HashMap::new();
    for id in g.ids().filter(|&id| live[id.index()] && is_update(id)) {
        let base = g.node(id).args[0];
        let (name, first) = match links.get(&base) {
            Some(link) if continues(base) => (link.name.clone(), false),
            _ => (var_named("__acc", id), true),
        };
        let last = !continues(id);
        links.insert(id, ChainLink { name, first, last });
    }
    links
}

/// A member of a chain of in-place updates.
pub(super) struct ChainLink {
    name: Ident,
    first: bool,
    last: bool,
}

/// The statements of one chain member: the copy it starts from, its update, the binding of
/// the chain's result.
pub(super) fn chain_link(g: &Graph, id: Id, link: &ChainLink) -> TokenStream {
    let name = &link.name;
    let ty = value_type(g.elem, g.ty(id));
    let start = if link.first {
        let base = var(g.node(id).args[0]);
        quote!(let mut #name: #ty = *#base;)
    } else {
        quote!()
    };
    let update = update_in_place(g, id, name);
    let end = if link.last {
        let v = var(id);
        quote!(let #v: &#ty = &#name;)
    } else {
        quote!()
    };
    quote!(#start #update #end)
}

/// An entry or block update written into the carried variable `target`.
fn update_in_place(g: &Graph, id: Id, target: &Ident) -> TokenStream {
    let node = g.node(id);
    let (v, i, j) = (var(node.args[1]), var(node.args[2]), var(node.args[3]));
    let block_dims = || {
        let Ty::Mat(r, c) = g.ty(node.args[1]) else {
            unreachable!("a block update writes a matrix")
        };
        (dim(r), dim(c))
    };
    match node.op {
        Op::AddAt => quote!(#target[(#i as usize, #j as usize)] += #v;),
        Op::SetAt => quote!(#target[(#i as usize, #j as usize)] = #v;),
        Op::AddBlock => {
            let (r, c) = block_dims();
            quote!(*&mut #target.fixed_view_mut::<#r, #c>(#i as usize, #j as usize) += #v;)
        }
        _ => {
            let (r, c) = block_dims();
            quote!(#target.fixed_view_mut::<#r, #c>(#i as usize, #j as usize).copy_from(#v);)
        }
    }
}

/// A region's body as a block: its parameters bound (parameter `p` to `captures[p]` for a
/// branch, or to `params[p]` for a loop), one `let` per live node, then the tuple of its
/// outputs by value. Written one level deeper than the node that owns it.
fn region_block(
    g: &Graph,
    region: usize,
    captures: &[Ident],
    params: &[TokenStream],
    in_place: &HashMap<Id, Ident>,
    needed: &[bool],
) -> TokenStream {
    let region = &g.regions[region];
    let body = &region.graph;
    let roots: Vec<Id> = region
        .outputs
        .iter()
        .zip(needed)
        .filter_map(|(&out, &on)| on.then_some(out))
        .chain(checks(body))
        .collect();
    let live = body.reachable(roots.iter().copied());
    let uses = Uses::count(body, &live, &roots);
    let chains = scatter_chains(body, &live, &uses, in_place);
    let mut emitted = vec![false; body.len()];
    let mut lets = Vec::new();
    for id in body.ids().filter(|id| live[id.index()]) {
        if emitted[id.index()] {
            continue;
        }
        if let Op::Param(p) = body.op(id) {
            let (name, ty) = (var(id), value_type(body.elem, body.ty(id)));
            let value = match params.get(*p) {
                Some(value) => value.clone(),
                None => {
                    let c = &captures[*p];
                    quote!(#c)
                }
            };
            lets.push(if by_reference(body.ty(id)) {
                quote!(let #name: &#ty = #value;)
            } else {
                quote!(let #name: #ty = #value;)
            });
            continue;
        }
        if let Some(target) = in_place.get(&id) {
            lets.push(update_in_place(body, id, target));
            continue;
        }
        if let Some(link) = chains.get(&id) {
            lets.push(chain_link(body, id, link));
            continue;
        }
        if let Some(taped) = taped_twin(body, &live, id) {
            lets.push(computed(body, taped, var));
            lets.push(from_taped_twin(body, id, taped));
            emitted[taped.index()] = true;
            continue;
        }
        if let Some((tokens, members)) = fused(body, &live, &uses, id) {
            lets.push(tokens);
            for member in members {
                emitted[member.index()] = true;
            }
            continue;
        }
        lets.push(computed(body, id, var));
    }
    let results = region.outputs.iter().zip(needed).map(|(&id, &on)| {
        let v = var(id);
        if !on || in_place.contains_key(&id) {
            // Written in place: the loop carries it already.
            quote!(())
        } else if by_reference(body.ty(id)) {
            quote!(*#v)
        } else {
            quote!(#v)
        }
    });
    quote!({
        #(#lets)*
        (#(#results,)*)
    })
}

/// The closure `|t| ...` computing the scalar function `g.scalar_fns[f]`, for `m.map(..)`.
fn scalar_closure(g: &Graph, f: usize) -> TokenStream {
    let ScalarFn { body, output } = g.scalar_fns[f];
    let body = &g.bodies[body];
    let elem = elem_type(body.elem);
    let live = body.reachable([output]);
    let argument = closure_var(Id::first());
    let lets = body
        .ids()
        .filter(|id| live[id.index()] && !matches!(body.op(*id), Op::Param(_)))
        .map(|id| computed(body, id, closure_var));
    let result = closure_var(output);
    quote!(|#argument: #elem| { #(#lets)* #result })
}

/// One loop over the entries computing several maps of one closure body, then a `let` for
/// each result.
fn fused_maps(g: &Graph, group: &[Id]) -> TokenStream {
    let matrix = var(g.node(group[0]).args[0]);
    let ty = value_type(g.elem, &g.node(group[0]).ty);
    let elem = elem_type(g.elem);
    let functions: Vec<ScalarFn> = group
        .iter()
        .map(|&id| match g.op(id) {
            Op::Map(f) => g.scalar_fns[*f],
            _ => unreachable!("a fused group holds maps only"),
        })
        .collect();
    let body = &g.bodies[functions[0].body];
    let live = body.reachable(functions.iter().map(|f| f.output));
    let argument = closure_var(Id::first());
    let lets = body
        .ids()
        .filter(|id| live[id.index()] && !matches!(body.op(*id), Op::Param(_)))
        .map(|id| computed(body, id, closure_var));
    let index = Ident::new("__i", Span::mixed_site());
    let storage: Vec<Ident> = group
        .iter()
        .map(|id| Ident::new(&format!("__m{}", id.index()), Span::mixed_site()))
        .collect();
    let results = functions.iter().map(|f| closure_var(f.output));
    let names = group.iter().map(|&id| var(id));
    quote! {
        #(let mut #storage: #ty = <#ty>::zeros();)*
        for #index in 0..#matrix.len() {
            let #argument: #elem = #matrix[#index];
            #(#lets)*
            #(#storage[#index] = #results;)*
        }
        #(let #names: &#ty = &#storage;)*
    }
}
