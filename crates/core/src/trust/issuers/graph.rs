//! The name graph of issuer pruning: who names whom as issuer, and how far
//! each certificate is from the leaf and from an anchor, before any
//! signature is checked.

use super::{AnchorNode, MAX_EDGES, Node, names};

/// Name edges and name distances, computed before any signature.
pub(super) struct Graph {
    /// `issuers[c]`: nodes that child `c` names as issuer.
    pub(super) issuers: Vec<Vec<usize>>,
    /// `anchors[c]`: anchors that child `c` names as issuer.
    pub(super) anchors: Vec<Vec<usize>>,
    /// Edges from the leaf, by name; `usize::MAX` when unreachable.
    pub(super) from_leaf: Vec<usize>,
    /// Whether some name path leads on to an anchor within [`MAX_EDGES`].
    pub(super) viable: Vec<bool>,
}

impl Graph {
    pub(super) fn new(nodes: &[Node<'_>], anchors: &[AnchorNode<'_>]) -> Self {
        let issuers: Vec<Vec<usize>> = nodes
            .iter()
            .map(|child| {
                let child_key = child.signed.map(|s| (s.subject, s.key.spki));
                (1..nodes.len())
                    .filter(|&i| {
                        let Some(issuer) = nodes.get(i) else {
                            return false;
                        };
                        let Some(signed) = &issuer.signed else {
                            return false;
                        };
                        let same_key_and_name =
                            child_key == Some((signed.subject, signed.key.spki));
                        !same_key_and_name && names(child, signed.subject, issuer.sha256)
                    })
                    .collect()
            })
            .collect();
        let anchor_edges: Vec<Vec<usize>> = nodes
            .iter()
            .map(|child| {
                (0..anchors.len())
                    .filter(|&a| {
                        anchors
                            .get(a)
                            .is_some_and(|anchor| names(child, anchor.subject, anchor.sha256))
                    })
                    .collect()
            })
            .collect();

        let unreached = usize::MAX;
        let mut from_leaf = vec![unreached; nodes.len()];
        if let Some(first) = from_leaf.first_mut() {
            *first = 0;
        }
        let mut frontier = vec![0];
        for depth in 1..MAX_EDGES {
            let mut next = Vec::new();
            for &child in &frontier {
                for &issuer in issuers.get(child).into_iter().flatten() {
                    if let Some(d) = from_leaf.get_mut(issuer)
                        && *d == unreached
                    {
                        *d = depth;
                        next.push(issuer);
                    }
                }
            }
            frontier = next;
        }

        let mut to_anchor: Vec<usize> = anchor_edges
            .iter()
            .map(|a| if a.is_empty() { unreached } else { 1 })
            .collect();
        for _ in 1..MAX_EDGES {
            let previous = to_anchor.clone();
            for (child, distance) in to_anchor.iter_mut().enumerate() {
                for &issuer in issuers.get(child).into_iter().flatten() {
                    if let Some(&d) = previous.get(issuer)
                        && d != unreached
                    {
                        *distance = (*distance).min(d.saturating_add(1));
                    }
                }
            }
        }
        let viable = from_leaf
            .iter()
            .zip(&to_anchor)
            .map(|(f, t)| *f != unreached && *t != unreached && f.saturating_add(*t) <= MAX_EDGES)
            .collect();
        Graph {
            issuers,
            anchors: anchor_edges,
            from_leaf,
            viable,
        }
    }

    pub(super) fn viable(&self, node: usize) -> bool {
        self.viable.get(node).copied().unwrap_or(false)
    }

    /// Whether `child` at `depth` edges below an anchor can be on a path.
    pub(super) fn fits(&self, child: usize, depth: usize) -> bool {
        self.viable(child)
            && self
                .from_leaf
                .get(child)
                .is_some_and(|f| f.saturating_add(depth) <= MAX_EDGES)
    }
}
