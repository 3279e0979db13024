//! Issuer pruning: which candidate intermediates webpki gets to see.
//!
//! webpki's search walks every ordering of certificates whose names chain
//! and checks signatures only when a candidate path reaches an anchor, so a
//! client sending several certificates under one name makes it try many
//! paths. Here the graph over leaf + candidates + anchors is built first, with
//! an edge child → issuer only when
//! - the issuer's raw subject is the child's raw issuer name,
//! - the issuer is not the child itself (fingerprint), nor the child's
//!   subject and key again (webpki's own loop rule), and, for a path to
//!   count,
//! - the child's authorityKeyIdentifier equals the issuer's
//!   subjectKeyIdentifier where both are present (else refused unchecked), and
//! - the child's signature verifies under the issuer's key.
//!
//! Names are compared first, for free; signatures are checked from the
//! anchors down, each pair at most once, so every signature computed is
//! under a key the client cannot choose: an anchor's, or that of a
//! certificate already verified up to an anchor. When that reaches the leaf,
//! webpki gets exactly the intermediates on verified paths. When it does
//! not, the request is denied, and webpki gets what the leaf reaches over
//! name edges not known to be bad, so that it reports the reason it always
//! did (a forged intermediate under a pinned name is still
//! `certificate_invalid`, an unsupported SHA-1 signature still
//! `weak_signature_algorithm`); webpki checks from the anchor down as well,
//! so it too computes nothing under a key the client chose.

use super::anchors::Anchor;
use super::memo::{EdgeCheck, Memo, Memoized, check_signature};
use super::presented::Cert;
use super::signed::{KeyIds, PublicKey, Signed};
use crate::fingerprint::Fingerprint;
use graph::Graph;

/// The name graph; the signature search over it is below.
mod graph;

/// webpki's own bound: at most 6 intermediates, so 7 edges to the anchor.
const MAX_EDGES: usize = 7;

/// A limit of the [`Budget`](super::budget::Budget) was reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Exhausted;

struct Node<'a> {
    signed: Option<Signed<'a>>,
    sha256: &'a Fingerprint,
    ids: &'a KeyIds,
}

struct AnchorNode<'a> {
    subject: &'a [u8],
    key: Option<PublicKey<'a>>,
    sha256: &'a Fingerprint,
    ids: &'a KeyIds,
}

/// Whether `child` names `issuer` (before any signature).
fn names(child: &Node<'_>, subject: &[u8], sha256: &Fingerprint) -> bool {
    child
        .signed
        .as_ref()
        .is_some_and(|signed| signed.issuer == subject && child.sha256 != sha256)
}

/// Whether the key identifiers allow `issuer` to have signed `child`; where
/// they differ the edge is refused without a signature check.
fn key_ids_agree(child: &KeyIds, issuer: &KeyIds) -> bool {
    match (&child.authority, &issuer.subject) {
        (Some(aki), Some(ski)) => aki == ski,
        _ => true,
    }
}

/// The indexes into `candidates` webpki should be given, in their order.
pub(crate) fn prune(
    leaf: &Cert<'_>,
    candidates: &[&Cert<'_>],
    anchors: &[&Anchor],
    memo: &Memo,
) -> Result<Vec<usize>, Exhausted> {
    let algorithms = memo.algorithms();
    // Node 0 is the leaf, node i the candidate i - 1.
    let nodes: Vec<Node<'_>> = std::iter::once(leaf)
        .chain(candidates.iter().copied())
        .map(|c| Node {
            signed: Signed::parse(&c.der),
            sha256: &c.sha256,
            ids: &c.key_ids,
        })
        .collect();
    let anchor_nodes: Vec<AnchorNode<'_>> = anchors
        .iter()
        .map(|a| AnchorNode {
            subject: a.trust_anchor.subject.as_ref(),
            key: PublicKey::from_spki(a.trust_anchor.subject_public_key_info.as_ref()),
            sha256: &a.sha256,
            ids: &a.key_ids,
        })
        .collect();
    let graph = Graph::new(&nodes, &anchor_nodes);
    let mut search = Search {
        graph: &graph,
        nodes: &nodes,
        anchors: &anchor_nodes,
        algorithms: &algorithms,
        memo,
        checked: vec![vec![None; nodes.len()]; nodes.len()],
    };
    let to_anchor = search.verified_to_anchor()?;
    let reached = if to_anchor.first().copied().flatten().is_some() {
        search.verified_from_leaf(&to_anchor)
    } else {
        search.not_refused_from_leaf(&to_anchor)
    };
    Ok(reached
        .iter()
        .enumerate()
        .skip(1)
        .filter(|(_, reached)| **reached)
        .map(|(i, _)| i - 1)
        .collect())
}

struct Search<'g, 'a, 'm> {
    graph: &'g Graph,
    nodes: &'g [Node<'a>],
    anchors: &'g [AnchorNode<'a>],
    algorithms: &'g [Memoized<'m>],
    memo: &'m Memo,
    /// `checked[c][i]`: child `c`'s signature under node `i`, once known.
    checked: Vec<Vec<Option<EdgeCheck>>>,
}

impl Search<'_, '_, '_> {
    /// Edges from each node to an anchor over verified signatures (shortest),
    /// searched from the anchors down.
    fn verified_to_anchor(&mut self) -> Result<Vec<Option<usize>>, Exhausted> {
        let count = self.nodes.len();
        let mut distance: Vec<Option<usize>> = vec![None; count];
        let mut frontier = Vec::new();
        for child in 0..count {
            if !self.graph.fits(child, 1) {
                continue;
            }
            for &a in self.graph.anchors.get(child).into_iter().flatten() {
                let Some(anchor) = self.anchors.get(a) else {
                    continue;
                };
                if self.signature(child, anchor.key, anchor.ids)? == EdgeCheck::Verified
                    && let Some(d) = distance.get_mut(child)
                    && d.is_none()
                {
                    *d = Some(1);
                    frontier.push(child);
                }
            }
        }
        for depth in 2..=MAX_EDGES {
            let mut next = Vec::new();
            for &issuer in &frontier {
                for child in 0..count {
                    let names_it = self
                        .graph
                        .issuers
                        .get(child)
                        .is_some_and(|i| i.contains(&issuer));
                    if !names_it || !self.graph.fits(child, depth) {
                        continue;
                    }
                    if self.edge(child, issuer)? == EdgeCheck::Verified
                        && let Some(d) = distance.get_mut(child)
                        && d.is_none()
                    {
                        *d = Some(depth);
                        next.push(child);
                    }
                }
            }
            frontier = next;
        }
        Ok(distance)
    }

    /// The nodes on some verified path from the leaf to an anchor, within
    /// [`MAX_EDGES`]. Every edge it follows was checked already.
    fn verified_from_leaf(&self, to_anchor: &[Option<usize>]) -> Vec<bool> {
        let mut reached = vec![false; self.nodes.len()];
        let mut depth_of = vec![usize::MAX; self.nodes.len()];
        if let Some(d) = depth_of.first_mut() {
            *d = 0;
        }
        let mut frontier = vec![0];
        for depth in 1..MAX_EDGES {
            let mut next = Vec::new();
            for &child in &frontier {
                for &issuer in self.graph.issuers.get(child).into_iter().flatten() {
                    let verified = self.known(child, issuer) == Some(EdgeCheck::Verified);
                    let on_path = to_anchor
                        .get(issuer)
                        .copied()
                        .flatten()
                        .is_some_and(|t| depth.saturating_add(t) <= MAX_EDGES);
                    if verified
                        && on_path
                        && let Some(d) = depth_of.get_mut(issuer)
                        && *d == usize::MAX
                    {
                        *d = depth;
                        next.push(issuer);
                        if let Some(r) = reached.get_mut(issuer) {
                            *r = true;
                        }
                    }
                }
            }
            frontier = next;
        }
        reached
    }

    /// Without a verified path: what the leaf reaches over name edges not
    /// known to be bad, computing nothing. webpki checks a candidate path
    /// from the anchor down and stops at its first bad signature, so every
    /// signature it computes on these is under a key already verified up to
    /// an anchor, which pruning has checked (or refused) already. Key
    /// identifiers that disagree refuse an edge only to an issuer not itself
    /// verified up to an anchor: under such an issuer's key webpki's check
    /// costs one signature under a key the client did not choose, and its
    /// bad signature is the reason the verification always gave
    /// (`certificate_invalid` for a leaf naming a pinned path's intermediate).
    fn not_refused_from_leaf(&self, to_anchor: &[Option<usize>]) -> Vec<bool> {
        let mut reached = vec![false; self.nodes.len()];
        let mut frontier = vec![0];
        for _ in 1..MAX_EDGES {
            let mut next = Vec::new();
            for &child in &frontier {
                for &issuer in self.graph.issuers.get(child).into_iter().flatten() {
                    let anchored = to_anchor.get(issuer).copied().flatten().is_some();
                    let refused = self.known(child, issuer) == Some(EdgeCheck::Invalid)
                        || (!anchored && !self.key_ids_agree(child, issuer));
                    if refused
                        || !self.graph.viable(issuer)
                        || reached.get(issuer).copied().unwrap_or(true)
                    {
                        continue;
                    }
                    if let Some(r) = reached.get_mut(issuer) {
                        *r = true;
                    }
                    next.push(issuer);
                }
            }
            frontier = next;
        }
        reached
    }

    fn key_ids_agree(&self, child: usize, issuer: usize) -> bool {
        match (self.nodes.get(child), self.nodes.get(issuer)) {
            (Some(child), Some(issuer)) => key_ids_agree(child.ids, issuer.ids),
            _ => false,
        }
    }

    fn known(&self, child: usize, issuer: usize) -> Option<EdgeCheck> {
        self.checked.get(child)?.get(issuer).copied().flatten()
    }

    /// `child`'s signature under candidate `issuer`, checked at most once.
    fn edge(&mut self, child: usize, issuer: usize) -> Result<EdgeCheck, Exhausted> {
        if let Some(known) = self.known(child, issuer) {
            return Ok(known);
        }
        let Some(node) = self.nodes.get(issuer) else {
            return Ok(EdgeCheck::Invalid);
        };
        let key = node.signed.as_ref().map(|s| s.key);
        let result = self.signature(child, key, node.ids)?;
        if let Some(slot) = self.checked.get_mut(child).and_then(|c| c.get_mut(issuer)) {
            *slot = Some(result);
        }
        Ok(result)
    }

    fn signature(
        &self,
        child: usize,
        key: Option<PublicKey<'_>>,
        issuer_ids: &KeyIds,
    ) -> Result<EdgeCheck, Exhausted> {
        let Some(node) = self.nodes.get(child) else {
            return Ok(EdgeCheck::Invalid);
        };
        let (Some(signed), Some(key)) = (node.signed.as_ref(), key) else {
            return Ok(EdgeCheck::Invalid);
        };
        if !key_ids_agree(node.ids, issuer_ids) {
            return Ok(EdgeCheck::KeyIdsDiffer);
        }
        let result = check_signature(
            self.algorithms,
            key.algorithm,
            key.bits,
            signed.signature_algorithm,
            signed.tbs,
            signed.signature,
        );
        if self.memo.exhausted() {
            return Err(Exhausted);
        }
        Ok(result)
    }
}

#[cfg(test)]
mod tests;
