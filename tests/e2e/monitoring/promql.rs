//! Just enough PromQL reading to say which metrics a query selects and
//! which of their labels it relies on: matchers in `{...}`, labels in
//! `by (...)` (on every metric of the aggregated expression) and
//! Grafana's `label_values(metric, label)`.

use std::collections::BTreeSet;

/// A label a query relies on, and what it expects of it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Expect {
    /// Some series has the label with this value.
    Value(String),
    /// Some series has the label.
    Present,
}

/// A metric a query selects and the labels it relies on.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Use {
    pub metric: String,
    pub labels: BTreeSet<(String, Expect)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    Ident(String),
    Str(String),
    Punct(String),
}

fn tokens(query: &str) -> Vec<Token> {
    let chars: Vec<char> = query.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_alphabetic() || c == '_' || c == ':' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || "_:".contains(chars[i])) {
                i += 1;
            }
            out.push(Token::Ident(chars[start..i].iter().collect()));
        } else if c == '"' || c == '\'' {
            let start = i + 1;
            i += 1;
            while i < chars.len() && chars[i] != c {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            out.push(Token::Str(
                chars[start..i.min(chars.len())].iter().collect(),
            ));
            i += 1;
        } else if c == '[' {
            // A range or a subquery: nothing that names a metric or label.
            while i < chars.len() && chars[i] != ']' {
                i += 1;
            }
            i += 1;
        } else {
            let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
            let op = ["=~", "!~", "!=", "==", ">=", "<="]
                .into_iter()
                .find(|op| *op == two);
            let punct = op.map_or_else(|| c.to_string(), str::to_string);
            i += punct.len();
            out.push(Token::Punct(punct));
        }
    }
    out
}

/// The filter's and Envoy's metrics; recording rules (with `:`) are not scraped.
fn is_metric(name: &str) -> bool {
    (name.starts_with("onerecord_tls_policy_") || name.starts_with("envoy_")) && !name.contains(':')
}

fn punct(token: Option<&Token>, p: &str) -> bool {
    matches!(token, Some(Token::Punct(q)) if q == p)
}

/// The index just past the group that opens at `open` (a `(`).
fn group_end(tokens: &[Token], open: usize) -> usize {
    let mut depth = 0;
    for (i, token) in tokens.iter().enumerate().skip(open) {
        if punct(Some(token), "(") {
            depth += 1;
        } else if punct(Some(token), ")") {
            depth -= 1;
            if depth == 0 {
                return i + 1;
            }
        }
    }
    tokens.len()
}

/// `( a, b )` at `open`: the names and the index after `)`.
fn label_list(tokens: &[Token], open: usize) -> (Vec<String>, usize) {
    let end = group_end(tokens, open);
    let names = tokens[open..end]
        .iter()
        .filter_map(|t| match t {
            Token::Ident(name) => Some(name.clone()),
            _ => None,
        })
        .collect();
    (names, end)
}

/// Every metric `query` selects, with the labels it relies on.
pub fn uses(query: &str) -> Vec<Use> {
    let tokens = tokens(query);
    let mut uses: Vec<Use> = Vec::new();
    // (labels, first token, end token) of each `by (...)` aggregation.
    let mut groupings: Vec<(Vec<String>, usize, usize)> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        match &tokens[i] {
            Token::Ident(word) if word == "by" && punct(tokens.get(i + 1), "(") => {
                let (labels, after) = label_list(&tokens, i + 1);
                if punct(tokens.get(after), "(") {
                    groupings.push((labels, after, group_end(&tokens, after)));
                }
                i = after;
            }
            Token::Ident(word)
                if ["without", "on", "ignoring", "group_left", "group_right"]
                    .contains(&word.as_str())
                    && punct(tokens.get(i + 1), "(") =>
            {
                i = label_list(&tokens, i + 1).1;
            }
            Token::Ident(word) if word == "label_values" && punct(tokens.get(i + 1), "(") => {
                let (args, after) = label_list(&tokens, i + 1);
                if let [metric, label] = args.as_slice() {
                    let mut labels = BTreeSet::new();
                    labels.insert((label.clone(), Expect::Present));
                    uses.push(Use {
                        metric: metric.clone(),
                        labels,
                    });
                }
                i = after;
            }
            Token::Ident(name) if is_metric(name) => {
                let at = i;
                let mut used = Use {
                    metric: name.clone(),
                    labels: BTreeSet::new(),
                };
                i += 1;
                if punct(tokens.get(i), "{") {
                    i += 1;
                    while let (
                        Some(Token::Ident(label)),
                        Some(Token::Punct(op)),
                        Some(Token::Str(value)),
                    ) = (tokens.get(i), tokens.get(i + 1), tokens.get(i + 2))
                    {
                        expect(&mut used, label, op, value);
                        i += 3;
                        if punct(tokens.get(i), ",") {
                            i += 1;
                        }
                    }
                }
                used.labels.extend(
                    groupings
                        .iter()
                        .filter(|(_, start, end)| (*start..*end).contains(&at))
                        .flat_map(|(labels, _, _)| labels.iter())
                        .map(|label| (label.clone(), Expect::Present)),
                );
                uses.push(used);
            }
            _ => i += 1,
        }
    }
    uses
}

/// `label op "value"`: an equality with a plain value, or a regex of plain
/// alternatives, expects each value; a negative matcher or a dashboard
/// variable only that the label exists.
fn expect(used: &mut Use, label: &str, op: &str, value: &str) {
    let plain = |v: &str| {
        !v.is_empty()
            && v.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    };
    let values: Vec<&str> = match op {
        "=" if plain(value) => vec![value],
        "=~" if value.split('|').all(plain) => value.split('|').collect(),
        _ => Vec::new(),
    };
    if values.is_empty() {
        used.labels.insert((label.to_string(), Expect::Present));
    }
    for value in values {
        used.labels
            .insert((label.to_string(), Expect::Value(value.to_string())));
    }
}

#[test]
fn reads_matchers_groupings_and_label_values() {
    let query = r#"sum by (reason, rule) (rate(onerecord_tls_policy_denied_total{instance=~"$instance",reason="tls_required"}[5m]))
        / ignoring (x) onerecord:recorded:rate5m
        + sum without (result) (rate(envoy_http_downstream_rq_total{prefix!="admin",result=~"a|b"}[1h] offset 1d))
        or label_values(onerecord_tls_policy_config_loads_total, instance)"#;
    let set = |pairs: &[(&str, Expect)]| {
        pairs
            .iter()
            .map(|(l, e)| (l.to_string(), e.clone()))
            .collect::<BTreeSet<_>>()
    };
    let v = |s: &str| Expect::Value(s.to_string());
    assert_eq!(
        uses(query),
        vec![
            Use {
                metric: "onerecord_tls_policy_denied_total".into(),
                labels: set(&[
                    ("instance", Expect::Present),
                    ("reason", v("tls_required")),
                    ("reason", Expect::Present),
                    ("rule", Expect::Present),
                ]),
            },
            Use {
                metric: "envoy_http_downstream_rq_total".into(),
                labels: set(&[
                    ("prefix", Expect::Present),
                    ("result", v("a")),
                    ("result", v("b"))
                ]),
            },
            Use {
                metric: "onerecord_tls_policy_config_loads_total".into(),
                labels: set(&[("instance", Expect::Present)]),
            },
        ]
    );
}
