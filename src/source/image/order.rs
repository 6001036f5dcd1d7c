//! The order distinct layers are read in: a layer only after every layer
//! above it in every image that has it, so their file lists (whiteouts,
//! replacements) are known when its files are reported.

use std::collections::HashMap;

/// Distinct digests of `stacks` (each an image's layers, bottom first),
/// topmost first. Layers in a cycle (the same layer below and above
/// another in different images) are taken in order of first appearance.
pub fn top_down<'a>(stacks: &[Vec<&'a str>]) -> Vec<&'a str> {
    let mut ids: HashMap<&str, usize> = HashMap::new();
    let mut names: Vec<&str> = Vec::new();
    for stack in stacks {
        for d in stack {
            ids.entry(d).or_insert_with(|| {
                names.push(d);
                names.len() - 1
            });
        }
    }
    // below[x]: layers directly below x somewhere; above[x]: how many
    // distinct layers sit directly above x and are not read yet.
    let mut below: Vec<Vec<usize>> = vec![Vec::new(); names.len()];
    let mut above: Vec<usize> = vec![0; names.len()];
    for stack in stacks {
        for pair in stack.windows(2) {
            let (lower, upper) = (ids[pair[0]], ids[pair[1]]);
            if lower != upper && !below[upper].contains(&lower) {
                below[upper].push(lower);
                above[lower] += 1;
            }
        }
    }
    let mut done = vec![false; names.len()];
    let mut out = Vec::with_capacity(names.len());
    let mut ready: Vec<usize> = (0..names.len()).rev().filter(|&i| above[i] == 0).collect();
    while out.len() < names.len() {
        let next = match ready.pop() {
            Some(n) => n,
            // A cycle: break it at the earliest unread layer.
            None => (0..names.len())
                .find(|&i| !done[i])
                .expect("fewer layers read than exist"),
        };
        if done[next] {
            continue;
        }
        done[next] = true;
        out.push(names[next]);
        for &l in &below[next] {
            above[l] = above[l].saturating_sub(1);
            if above[l] == 0 && !done[l] {
                ready.push(l);
            }
        }
    }
    out
}

/// For each position in `order`, the digests whose file lists are no longer
/// needed once the layer at that position is read: a list serves the layers
/// below its layer, in every image.
pub fn last_uses<'a>(stacks: &[Vec<&'a str>], order: &[&'a str]) -> Vec<Vec<&'a str>> {
    let position: HashMap<&str, usize> = order.iter().enumerate().map(|(i, d)| (*d, i)).collect();
    let mut last: HashMap<&str, usize> = HashMap::new();
    for stack in stacks {
        for (k, d) in stack.iter().enumerate() {
            let own = position[d];
            let below = stack[..k].iter().map(|b| position[b]).max().unwrap_or(own);
            let e = last.entry(d).or_insert(own);
            *e = (*e).max(below);
        }
    }
    let mut out = vec![Vec::new(); order.len()];
    for (d, p) in last {
        out[p].push(d);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upper_layers_first_across_images() {
        let a = vec!["base", "mid", "a-top"];
        let b = vec!["base", "b-top"];
        let order = top_down(&[a, b]);
        let pos = |d: &str| order.iter().position(|x| *x == d).expect("present");
        assert_eq!(order.len(), 4);
        assert!(pos("a-top") < pos("mid"));
        assert!(pos("mid") < pos("base"));
        assert!(pos("b-top") < pos("base"));
    }

    #[test]
    fn file_lists_are_dropped_after_the_last_layer_below_them() {
        let stacks = [vec!["base", "mid", "top"], vec!["base", "other"]];
        let order = top_down(&stacks);
        let uses = last_uses(&stacks, &order);
        let base = order.iter().position(|d| *d == "base").expect("base");
        // Everything above base serves base: all dropped after it.
        let mut at_base = uses[base].clone();
        at_base.sort_unstable();
        assert_eq!(at_base, ["base", "mid", "other", "top"]);
        assert_eq!(uses.iter().map(Vec::len).sum::<usize>(), 4);
    }

    #[test]
    fn cycles_and_repeats_still_read_each_layer_once() {
        let order = top_down(&[vec!["x", "y", "x"], vec!["y", "x"]]);
        let mut sorted = order.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, ["x", "y"]);
    }
}
