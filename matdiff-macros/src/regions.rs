//! The rules of the ops that own sub-programs (`Op::Map`'s closure, `Op::Loop`'s and
//! `Op::Cond`'s regions), derived from their bodies by the ordinary transforms, as JAX derives
//! `scan`'s and `cond`'s.
//!
//! * The tangent of `map(f)` is `f'` applied entry-wise times the tangent, and `f'` is the
//!   forward transform applied to the closure's body; so is `f''`, and so on.
//! * The tangent of a loop is a loop over the body's tangent: the carried values and their
//!   tangents are carried together. The tangent of a branch is a branch over the branches'
//!   tangents.
//! * The adjoint of a loop runs backwards. A taped copy of the forward loop records each
//!   iteration's carried values in stack arrays; the reverse loop reads them back, recomputes
//!   that iteration's body and applies its adjoint, carrying the cotangents of the carried
//!   values and accumulating those of the captured ones. The adjoint of a branch is a branch
//!   over the branches' adjoints, so the side not taken is never evaluated.
//!
//! The new bodies are ordinary graphs, so `hvp = jvp(grad)` needs nothing more: the tangent of
//! a reverse loop is again a loop (`Op::Load` of a tape has the tangent `Load` of the tangent
//! tape).
//!
//! The transforms are passed in (`forward.rs` and `reverse.rs` call these rules with
//! themselves), not imported: a body's rule is a function of the transform, and this module
//! stays below the transforms that use it.

use crate::build::Build;
use crate::ir::{tape_capacity, Elem, Graph, Id, Region, ScalarFn, SymInt, Ty};
use crate::ops::{CondSpec, LoopSpec, Op};
use proc_macro2::Span;

/// The forward transform, `forward::tangents`: the tangent of every node among the first
/// `upto`, given `(input, direction)` seeds.
pub type Tangents = fn(&mut Graph, &[(Id, Id)], usize) -> Vec<Option<Id>>;

/// The reverse transform, `reverse::vjp`: the cotangents of `inputs`, given
/// `(output, cotangent)` seeds.
pub type Cotangents = fn(&mut Graph, &[(Id, Id)], &[Id]) -> Vec<Option<Id>>;

/// Tangents of the components of the tuple that region node `y` computes, given the tangents
/// `d` of its arguments.
pub fn jvp(g: &mut Graph, y: Id, d: &[Option<Id>], tangents: Tangents) -> Vec<Option<Id>> {
    match g.op(y).clone() {
        Op::Loop(spec) => loop_jvp(g, y, &spec, d, tangents),
        Op::Cond(spec) => cond_jvp(g, y, &spec, d, tangents),
        _ => unreachable!("only loops and branches own regions"),
    }
}

/// Contributions to the adjoints of region node `y`'s arguments, given the cotangents of the
/// components of its tuple; `active` says which arguments depend on a differentiated input.
pub fn vjp(
    g: &mut Graph,
    y: Id,
    ybar: &[Option<Id>],
    active: &[bool],
    cotangents: Cotangents,
) -> Vec<Option<Id>> {
    match g.op(y).clone() {
        Op::Loop(spec) => loop_vjp(g, y, &spec, ybar, active, cotangents),
        Op::Cond(spec) => cond_vjp(g, y, &spec, ybar, active, cotangents),
        _ => unreachable!("only loops and branches own regions"),
    }
}

// ---------------------------------------------------------------------------------------------
// Closures.

/// `dy = f'.(A) ∘ dA` for `y = map(f)(A)`.
pub fn map_jvp(
    g: &mut Graph,
    y: Id,
    f: usize,
    a: Id,
    da: Option<Id>,
    tangents: Tangents,
) -> Option<Id> {
    let span = g.node(y).span;
    let slope = map_slope(g, f, a, span, tangents)?;
    Some(g.add(Op::ComponentMul, &[slope, da?], span))
}

/// `Ā = ȳ ∘ f'.(A)` for `y = map(f)(A)`.
pub fn map_vjp(g: &mut Graph, y: Id, f: usize, a: Id, ybar: Id, tangents: Tangents) -> Option<Id> {
    let span = g.node(y).span;
    let slope = map_slope(g, f, a, span, tangents)?;
    Some(g.add(Op::ComponentMul, &[ybar, slope], span))
}

/// The scalar function `f'`, built by the forward transform on `f`'s body with `dt = 1`;
/// `None` when `f` is constant. Built once per function.
fn scalar_fn_derivative(g: &mut Graph, f: usize, tangents: Tangents) -> Option<usize> {
    if let Some(known) = g.known_derivative(f) {
        return known;
    }
    let ScalarFn { body, output } = g.scalar_fns[f];
    let graph = &mut g.bodies[body];
    let argument = graph.ids().next();
    let derivative = argument.and_then(|t| {
        let span = graph.node(output).span;
        let one = graph.lit(1.0, span);
        let upto = graph.len();
        tangents(graph, &[(t, one)], upto)[output.index()]
    });
    let derivative = derivative.map(|output| g.push_scalar_fn(ScalarFn { body, output }));
    g.record_derivative(f, derivative);
    derivative
}

/// The entry-wise derivative `f'.(A)` of `map(f)` at `A`.
fn map_slope(g: &mut Graph, f: usize, a: Id, span: Span, tangents: Tangents) -> Option<Id> {
    let derivative = scalar_fn_derivative(g, f, tangents)?;
    Some(g.add(Op::Map(derivative), &[a], span))
}

// ---------------------------------------------------------------------------------------------
// What the rules of loops and branches share.

/// Which nodes of `body` depend on a parameter `p` with `active(p)`.
fn depends_on_params(body: &Graph, active: impl Fn(usize) -> bool) -> Vec<bool> {
    let mut mask = vec![false; body.len()];
    for id in body.ids() {
        let node = body.node(id);
        let depends = match node.op {
            Op::Param(p) => active(p),
            _ => node.args.iter().any(|a| mask[a.index()]),
        };
        mask[id.index()] = depends && node.ty.is_differentiable();
    }
    mask
}

/// The carried values `start` marks, and those an iteration reads to compute a marked one,
/// among those `admit` allows (a fixed point over the body's dependencies, backwards).
pub fn carries_read(
    region: &Region,
    n: usize,
    start: Vec<bool>,
    admit: impl Fn(usize) -> bool,
) -> Vec<bool> {
    let mut marked = start;
    loop {
        let roots = positions(&marked).into_iter().map(|j| region.outputs[j]);
        let live = region.graph.reachable(roots);
        let mut read = vec![false; n];
        for id in region.graph.ids().filter(|id| live[id.index()]) {
            if let Op::Param(p) = region.graph.op(id) {
                if (2..2 + n).contains(p) {
                    read[p - 2] = true;
                }
            }
        }
        let next: Vec<bool> = (0..n).map(|j| marked[j] || (read[j] && admit(j))).collect();
        if next == marked {
            return marked;
        }
        marked = next;
    }
}

/// Parameter nodes for `types` in a new body, in order.
fn params(body: &mut Graph, types: &[Ty], span: Span) -> Vec<Id> {
    types
        .iter()
        .enumerate()
        .map(|(p, ty)| body.add_typed(Op::Param(p), &[], ty.clone(), span))
        .collect()
}

fn field(g: &mut Graph, tuple: Id, k: usize, span: Span) -> Id {
    g.add(Op::Field(k), &[tuple], span)
}

fn positions(mask: &[bool]) -> Vec<usize> {
    mask.iter()
        .enumerate()
        .filter_map(|(k, &on)| on.then_some(k))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Loops.

/// Which carried values have a nonzero tangent: those seeded, and those an iteration makes
/// depend on an active value (a fixed point over the body).
fn active_carries(region: &Region, n: usize, carries: Vec<bool>, captures: &[bool]) -> Vec<bool> {
    let mut carries = carries;
    loop {
        let mask = depends_on_params(&region.graph, |p| match p {
            0 | 1 => false,
            p if p < 2 + n => carries[p - 2],
            p => captures[p - 2 - n],
        });
        let next: Vec<bool> = carries
            .iter()
            .zip(&region.outputs)
            .map(|(&on, out)| on || mask[out.index()])
            .collect();
        if next == carries {
            return carries;
        }
        carries = next;
    }
}

/// The body of the tangent of a loop over `region`: parameters `i`, `k`, the carried values,
/// the tangents of those in `tangents_of`, the captured values, the tangents of those in
/// `dcaptures`; outputs the carried values, then their tangents.
fn loop_tangent_region(
    g: &mut Graph,
    region: &Region,
    n: usize,
    tangents_of: &[usize],
    dcaptures: &[usize],
    tangents: Tangents,
    span: Span,
) -> usize {
    let n_captures = region.params.len() - 2 - n;
    let carry_tys = &region.params[2..2 + n];
    let capture_tys = &region.params[2 + n..];
    let mut tys: Vec<Ty> = region.params[..2 + n].to_vec();
    tys.extend(tangents_of.iter().map(|&j| carry_tys[j].clone()));
    tys.extend(capture_tys.iter().cloned());
    tys.extend(dcaptures.iter().map(|&c| capture_tys[c].clone()));
    let m = tangents_of.len();
    let primal: Vec<usize> = (0..2 + n)
        .chain(2 + n + m..2 + n + m + n_captures)
        .collect();
    let mut seeds: Vec<(usize, usize)> = tangents_of
        .iter()
        .enumerate()
        .map(|(t, &j)| (2 + j, 2 + n + t))
        .collect();
    seeds.extend(
        dcaptures
            .iter()
            .enumerate()
            .map(|(t, &c)| (2 + n + m + c, 2 + n + m + n_captures + t)),
    );
    let body = TangentBody {
        params: &tys,
        primal: &primal,
        seeds: &seeds,
        tangents_of,
        out_tys: carry_tys,
    };
    let region = body.build(g.elem, region, tangents, span);
    g.add_region(region)
}

/// How a region's body is carried over into a body that also computes tangents.
struct TangentBody<'a> {
    /// The new body's parameter types.
    params: &'a [Ty],
    /// `primal[p]` is the new parameter standing for the old body's parameter `p`.
    primal: &'a [usize],
    /// `(p, t)`: the new parameter `t` is the tangent of the new parameter `p`.
    seeds: &'a [(usize, usize)],
    /// The outputs whose tangents follow the old outputs, of types `out_tys[j]`.
    tangents_of: &'a [usize],
    out_tys: &'a [Ty],
}

impl TangentBody<'_> {
    /// The old body's outputs, then the tangents of those in `tangents_of` (zero where an
    /// output does not depend on a seeded parameter).
    fn build(&self, elem: Elem, region: &Region, tangents: Tangents, span: Span) -> Region {
        let mut body = Graph::new(elem);
        let ps = params(&mut body, self.params, span);
        let old: Vec<Id> = self.primal.iter().map(|&p| ps[p]).collect();
        let map = body.import(&region.graph, &old);
        let seeds: Vec<(Id, Id)> = self.seeds.iter().map(|&(p, t)| (ps[p], ps[t])).collect();
        let upto = body.len();
        let tangent = tangents(&mut body, &seeds, upto);
        let mut outputs: Vec<Id> = region.outputs.iter().map(|o| map[o.index()]).collect();
        for &j in self.tangents_of {
            let out = map[region.outputs[j].index()];
            let dout = tangent[out.index()].unwrap_or_else(|| body.zeros(&self.out_tys[j], span));
            outputs.push(dout);
        }
        Region {
            graph: body,
            params: self.params.to_vec(),
            outputs,
        }
    }
}

fn loop_jvp(
    g: &mut Graph,
    y: Id,
    spec: &LoopSpec,
    d: &[Option<Id>],
    tangents: Tangents,
) -> Vec<Option<Id>> {
    let node = g.node(y).clone();
    let span = node.span;
    let region = g.regions[spec.region].clone();
    let n = spec.n_carries;
    let n_captures = node.args.len() - n;
    let seeded: Vec<bool> = (0..n).map(|j| d[j].is_some()).collect();
    let captures_on: Vec<bool> = (0..n_captures).map(|c| d[n + c].is_some()).collect();
    let carries_on = active_carries(&region, n, seeded, &captures_on);
    let tangents_of = positions(&carries_on);
    let dcaptures = positions(&captures_on);
    let no_result = vec![None; n + spec.taped().count()];
    if tangents_of.is_empty() {
        return no_result;
    }

    // Parameters: i, k, carried, their tangents, captured, their tangents. A loop and its
    // taped copy share the body of their tangents.
    let carry_tys = region.params[2..2 + n].to_vec();
    let m = tangents_of.len();
    let key = (
        spec.region,
        [carries_on.clone(), captures_on.clone()].concat(),
    );
    let new_region = match g.derived_regions.get(&key) {
        Some(&known) => known,
        None => {
            let built =
                loop_tangent_region(g, &region, n, &tangents_of, &dcaptures, tangents, span);
            g.derived_regions.insert(key, built);
            built
        }
    };

    let mut args: Vec<Id> = node.args[..n].to_vec();
    for &j in &tangents_of {
        let init = d[j].unwrap_or_else(|| g.zeros(&carry_tys[j], span));
        args.push(init);
    }
    args.extend_from_slice(&node.args[n..]);
    args.extend(
        dcaptures
            .iter()
            .map(|&c| d[n + c].expect("an active capture")),
    );
    // A taped loop's tangent also tapes the tangents of the values it tapes.
    let mut tape = spec.tape.clone();
    if !tape.is_empty() {
        tape.extend(tangents_of.iter().map(|&j| spec.tape[j]));
    }
    let new_spec = LoopSpec {
        region: new_region,
        n_carries: n + m,
        tape,
        ..spec.clone()
    };
    let ty = loop_type(g, &new_spec, &g.regions[new_region].params.clone());
    let rank = |spec: &LoopSpec, j: usize| spec.taped().take_while(|&k| k < j).count();
    let tangent_loop = g.add_typed(Op::Loop(new_spec.clone()), &args, ty, span);
    let mut result = no_result;
    for (t, &j) in tangents_of.iter().enumerate() {
        result[j] = Some(field(g, tangent_loop, n + t, span));
        if spec.tape.get(j) == Some(&true) {
            let at = n + m + rank(&new_spec, n + t);
            result[n + rank(spec, j)] = Some(field(g, tangent_loop, at, span));
        }
    }
    result
}

/// The tuple a loop node computes: the carried values, then their tapes when taped.
pub fn loop_type(g: &Graph, spec: &LoopSpec, params: &[Ty]) -> Ty {
    let carried = &params[2..2 + spec.n_carries];
    let mut items = carried.to_vec();
    let capacity = tape_capacity(&spec.trip).unwrap_or(SymInt::Lit(0));
    items.extend(
        spec.taped()
            .map(|j| Ty::Array(Box::new(carried[j].clone()), capacity.clone())),
    );
    let _ = g;
    Ty::Tuple(items)
}

fn loop_vjp(
    g: &mut Graph,
    y: Id,
    spec: &LoopSpec,
    ybar: &[Option<Id>],
    active: &[bool],
    cotangents: Cotangents,
) -> Vec<Option<Id>> {
    let node = g.node(y).clone();
    let span = node.span;
    let region = g.regions[spec.region].clone();
    let n = spec.n_carries;
    let n_captures = node.args.len() - n;
    let mut none = vec![None; node.args.len()];
    if ybar[n..].iter().any(Option::is_some) {
        g.internal_errors.push((
            span,
            "the adjoint of a loop's tape is never needed".to_owned(),
        ));
        return none;
    }
    let captures_on: Vec<bool> = (0..n_captures).map(|c| active[n + c]).collect();
    let inits_on: Vec<bool> = (0..n).map(|j| active[j]).collect();
    let forward_on = active_carries(&region, n, inits_on, &captures_on);

    // Carried values with a nonzero cotangent: those seeded, and those an iteration reads to
    // compute one.
    let seeded: Vec<bool> = (0..n).map(|j| ybar[j].is_some() && forward_on[j]).collect();
    let cotangent_on = carries_read(&region, n, seeded, |j| forward_on[j]);
    let bars = positions(&cotangent_on);
    if bars.is_empty() {
        return none;
    }
    let capture_bars = positions(&captures_on);

    // The reverse body, built once to see which carried values it reads back, then with
    // tapes for those only.
    let carry_tys = region.params[2..2 + n].to_vec();
    let capture_tys = region.params[2 + n..].to_vec();
    let shape = ReverseShape {
        region: &region,
        n,
        bars: &bars,
        capture_bars: &capture_bars,
        span,
        cotangents,
    };
    let all: Vec<bool> = vec![true; n];
    let (_, read) = shape.build(g.elem, &all, &spec.trip);
    let taped_spec = LoopSpec {
        tape: read.clone(),
        ..spec.clone()
    };
    let (body, _) = shape.build(g.elem, &read, &spec.trip);
    // The forward loop again, recording the carried values the reverse body reads.
    let ty = loop_type(g, &taped_spec, &region.params);
    let taped = g.add_typed(Op::Loop(taped_spec), &node.args, ty, span);
    let mut recorded = 0..;
    let tapes: Vec<Id> = (0..n)
        .map(|j| {
            if read[j] {
                let t = recorded.next().expect("unbounded");
                field(g, taped, n + t, span)
            } else {
                let ty = Ty::Array(Box::new(carry_tys[j].clone()), SymInt::Lit(0));
                g.add_typed(Op::EmptyTape, &[], ty, span)
            }
        })
        .collect();
    let (nb, nc) = (bars.len(), capture_bars.len());
    let tys = body.params.clone();
    // An iteration that reads nothing back and passes the carried cotangents through
    // unchanged (a loop accumulating `loss += f(x, i)`) only adds to the captured values'
    // cotangents: its iterations can run in any order, so they run in the forward loop's, and
    // the emitter may then run both loops as one.
    let order_free = read.iter().all(|r| !r)
        && body.outputs[..nb]
            .iter()
            .enumerate()
            .all(|(t, &out)| body.graph.op(out) == &Op::Param(2 + t));
    let reverse_region = g.add_region(body);

    let mut args: Vec<Id> = Vec::new();
    for &j in &bars {
        let seed = ybar[j].unwrap_or_else(|| g.zeros(&carry_tys[j], span));
        args.push(seed);
    }
    for &c in &capture_bars {
        args.push(g.zeros(&capture_tys[c], span));
    }
    args.extend_from_slice(&node.args[n..]);
    args.extend(&tapes);
    let reverse_spec = LoopSpec {
        region: reverse_region,
        n_carries: nb + nc,
        backward: if order_free {
            spec.backward
        } else {
            !spec.backward
        },
        tape: Vec::new(),
        ..spec.clone()
    };
    let ty = loop_type(g, &reverse_spec, &tys);
    let reverse_loop = g.add_typed(Op::Loop(reverse_spec), &args, ty, span);
    for (t, &j) in bars.iter().enumerate() {
        none[j] = Some(field(g, reverse_loop, t, span));
    }
    for (t, &c) in capture_bars.iter().enumerate() {
        none[n + c] = Some(field(g, reverse_loop, nb + t, span));
    }
    none
}

/// What a loop's reverse body is made of.
struct ReverseShape<'a> {
    region: &'a Region,
    n: usize,
    /// The carried values with a cotangent, and the captured ones.
    bars: &'a [usize],
    capture_bars: &'a [usize],
    span: Span,
    cotangents: Cotangents,
}

impl ReverseShape<'_> {
    /// The body of the reverse loop when the carried values `taped` are read back from tapes
    /// (the others are not available), and which carried values it reads.
    ///
    /// Parameters: `i`, `k`, the carried cotangents (of carried values, then of captured
    /// ones), then the captured: the loop's captures and the tapes. Each iteration recomputes
    /// the forward body from the values the tapes hold and applies its adjoint.
    fn build(&self, elem: Elem, taped: &[bool], trip: &SymInt) -> (Region, Vec<bool>) {
        let (region, n, span) = (self.region, self.n, self.span);
        let carry_tys = &region.params[2..2 + n];
        let capture_tys = &region.params[2 + n..];
        let n_captures = capture_tys.len();
        let capacity = tape_capacity(trip).unwrap_or(SymInt::Lit(0));
        let mut tys: Vec<Ty> = region.params[..2].to_vec();
        tys.extend(self.bars.iter().map(|&j| carry_tys[j].clone()));
        tys.extend(self.capture_bars.iter().map(|&c| capture_tys[c].clone()));
        tys.extend(capture_tys.iter().cloned());
        // A value the body does not read gets an empty tape: its load stays in the body (a
        // literal in its place would fold away and drop the value's own cotangent), dead.
        tys.extend((0..n).map(|j| {
            let length = if taped[j] {
                capacity.clone()
            } else {
                SymInt::Lit(0)
            };
            Ty::Array(Box::new(carry_tys[j].clone()), length)
        }));
        let mut body = Graph::new(elem);
        let ps = params(&mut body, &tys, span);
        let (nb, nc) = (self.bars.len(), self.capture_bars.len());
        let captures_at = 2 + nb + nc;
        let tapes_at = captures_at + n_captures;
        let carried_in: Vec<Id> = (0..n)
            .map(|j| body.add(Op::Load, &[ps[tapes_at + j], ps[1]], span))
            .collect();
        let mut old: Vec<Id> = vec![ps[0], ps[1]];
        old.extend(&carried_in);
        old.extend(&ps[captures_at..tapes_at]);
        let map = body.import(&region.graph, &old);
        let seeds: Vec<(Id, Id)> = self
            .bars
            .iter()
            .enumerate()
            .map(|(t, &j)| (map[region.outputs[j].index()], ps[2 + t]))
            .collect();
        let mut inputs: Vec<Id> = self.bars.iter().map(|&j| carried_in[j]).collect();
        inputs.extend(self.capture_bars.iter().map(|&c| ps[captures_at + c]));
        let cotangents = (self.cotangents)(&mut body, &seeds, &inputs);
        let mut outputs = Vec::with_capacity(nb + nc);
        for (t, &j) in self.bars.iter().enumerate() {
            let bar = cotangents[t].unwrap_or_else(|| body.zeros(&carry_tys[j], span));
            outputs.push(bar);
        }
        for t in 0..nc {
            let sum = body.add_opt(Some(ps[2 + nb + t]), cotangents[nb + t], span);
            outputs.push(sum.expect("an accumulator"));
        }
        let live = body.reachable(outputs.iter().copied());
        let read = (0..n)
            .map(|j| taped[j] && live[carried_in[j].index()])
            .collect();
        let region = Region {
            graph: body,
            params: tys,
            outputs,
        };
        (region, read)
    }
}

// ---------------------------------------------------------------------------------------------
// Branches.

fn cond_jvp(
    g: &mut Graph,
    y: Id,
    spec: &CondSpec,
    d: &[Option<Id>],
    tangents: Tangents,
) -> Vec<Option<Id>> {
    let node = g.node(y).clone();
    let span = node.span;
    let captures = &node.args[1..];
    let captures_on: Vec<bool> = (0..captures.len()).map(|c| d[1 + c].is_some()).collect();
    let dcaptures = positions(&captures_on);
    let regions = [
        g.regions[spec.then_region].clone(),
        g.regions[spec.else_region].clone(),
    ];
    let n_out = regions[0].outputs.len();
    let out_tys: Vec<Ty> = regions[0]
        .outputs
        .iter()
        .map(|&o| regions[0].graph.ty(o).clone())
        .collect();
    // An output has a tangent if it depends on an active capture in either branch.
    let mut outputs_on = vec![false; n_out];
    for region in &regions {
        let mask = depends_on_params(&region.graph, |p| captures_on[p]);
        for (on, out) in outputs_on.iter_mut().zip(&region.outputs) {
            *on |= mask[out.index()];
        }
    }
    let tangents_of = positions(&outputs_on);
    if tangents_of.is_empty() {
        return vec![None; n_out];
    }
    let mut tys = regions[0].params.clone();
    tys.extend(dcaptures.iter().map(|&c| regions[0].params[c].clone()));
    let primal: Vec<usize> = (0..captures.len()).collect();
    let seeds: Vec<(usize, usize)> = dcaptures
        .iter()
        .enumerate()
        .map(|(t, &c)| (c, captures.len() + t))
        .collect();
    let body = TangentBody {
        params: &tys,
        primal: &primal,
        seeds: &seeds,
        tangents_of: &tangents_of,
        out_tys: &out_tys,
    };
    let new_regions: Vec<usize> = regions
        .iter()
        .map(|region| {
            let region = body.build(g.elem, region, tangents, span);
            g.add_region(region)
        })
        .collect();
    let mut args = node.args.clone();
    args.extend(
        dcaptures
            .iter()
            .map(|&c| d[1 + c].expect("an active capture")),
    );
    let mut items = out_tys.clone();
    items.extend(tangents_of.iter().map(|&j| out_tys[j].clone()));
    let new_spec = CondSpec {
        then_region: new_regions[0],
        else_region: new_regions[1],
    };
    let tangent_cond = g.add_typed(Op::Cond(new_spec), &args, Ty::Tuple(items), span);
    let mut result = vec![None; n_out];
    for (t, &j) in tangents_of.iter().enumerate() {
        result[j] = Some(field(g, tangent_cond, n_out + t, span));
    }
    result
}

fn cond_vjp(
    g: &mut Graph,
    y: Id,
    spec: &CondSpec,
    ybar: &[Option<Id>],
    active: &[bool],
    cotangents: Cotangents,
) -> Vec<Option<Id>> {
    let node = g.node(y).clone();
    let span = node.span;
    let n_captures = node.args.len() - 1;
    let mut result = vec![None; node.args.len()];
    let seeded = positions(&ybar.iter().map(Option::is_some).collect::<Vec<_>>());
    let capture_bars = positions(&active[1..]);
    if seeded.is_empty() || capture_bars.is_empty() {
        return result;
    }
    let regions = [
        g.regions[spec.then_region].clone(),
        g.regions[spec.else_region].clone(),
    ];
    let capture_tys = regions[0].params.clone();
    let mut tys = capture_tys.clone();
    tys.extend(
        seeded
            .iter()
            .map(|&j| g.ty(ybar[j].expect("seeded")).clone()),
    );
    let mut new_regions = Vec::new();
    for region in &regions {
        let mut body = Graph::new(g.elem);
        let ps = params(&mut body, &tys, span);
        let map = body.import(&region.graph, &ps[..n_captures]);
        let seeds: Vec<(Id, Id)> = seeded
            .iter()
            .enumerate()
            .map(|(t, &j)| (map[region.outputs[j].index()], ps[n_captures + t]))
            .collect();
        let inputs: Vec<Id> = capture_bars.iter().map(|&c| ps[c]).collect();
        let bars = cotangents(&mut body, &seeds, &inputs);
        let outputs: Vec<Id> = capture_bars
            .iter()
            .zip(bars)
            .map(|(&c, bar)| bar.unwrap_or_else(|| body.zeros(&capture_tys[c], span)))
            .collect();
        new_regions.push(g.add_region(Region {
            graph: body,
            params: tys.clone(),
            outputs,
        }));
    }
    let mut args = node.args.clone();
    args.extend(seeded.iter().map(|&j| ybar[j].expect("seeded")));
    let items = capture_bars
        .iter()
        .map(|&c| capture_tys[c].clone())
        .collect();
    let adjoint_spec = CondSpec {
        then_region: new_regions[0],
        else_region: new_regions[1],
    };
    let adjoint = g.add_typed(Op::Cond(adjoint_spec), &args, Ty::Tuple(items), span);
    for (t, &c) in capture_bars.iter().enumerate() {
        result[1 + c] = Some(field(g, adjoint, t, span));
    }
    result
}
