//! Updates the generated part of docs/benchmarks.md, leaving the rest alone.

/// Replaces what lies between `<!-- {marker}:begin -->` and `<!-- {marker}:end -->`
/// in `doc` with `generated` (the hand-written parts stay); appends the block
/// when the markers are missing.
pub fn splice(doc: &str, marker: &str, generated: &str) -> String {
    let begin = format!("<!-- {marker}:begin -->");
    let end = format!("<!-- {marker}:end -->");
    let block = format!("{begin}\n{generated}{end}");
    match (doc.find(&begin), doc.find(&end)) {
        (Some(b), Some(e)) if b < e => format!("{}{block}{}", &doc[..b], &doc[e + end.len()..]),
        _ => format!("{doc}\n{block}\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splices_between_markers() {
        let doc = "head\n<!-- macro-bench:begin -->\nold\n<!-- macro-bench:end -->\ntail\n";
        assert_eq!(
            splice(doc, "macro-bench", "new\n"),
            "head\n<!-- macro-bench:begin -->\nnew\n<!-- macro-bench:end -->\ntail\n"
        );
        assert!(splice("doc\n", "macro-bench", "new\n").ends_with("<!-- macro-bench:end -->\n"));
    }
}
