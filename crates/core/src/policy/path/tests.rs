use super::*;

fn all(path: &str) -> Vec<String> {
    readings(path).iter().map(str::to_string).collect()
}

#[test]
fn strips_query_and_fragment() {
    assert_eq!(
        normalize_path("/logistics-objects/1?embedded=true"),
        "/logistics-objects/1"
    );
    assert_eq!(normalize_path("/a#frag"), "/a");
}

#[test]
fn decodes_unreserved_only() {
    assert_eq!(
        normalize_path("/access%2Ddelegations/x"),
        "/access-delegations/x"
    );
    assert_eq!(
        normalize_path("/%61ccess-delegations"),
        "/access-delegations"
    );
    assert_eq!(normalize_path("/a%2fb"), "/a%2Fb");
    assert_eq!(normalize_path("/a%zz"), "/a%zz");
    assert_eq!(normalize_path("/a%"), "/a%");
    assert_eq!(normalize_path("/a%+1"), "/a%+1");
}

#[test]
fn resolves_dot_segments_and_slashes() {
    assert_eq!(
        normalize_path("//access-delegations"),
        "/access-delegations"
    );
    assert_eq!(
        normalize_path("/./access-delegations"),
        "/access-delegations"
    );
    assert_eq!(
        normalize_path("/x/../access-delegations/"),
        "/access-delegations/"
    );
    assert_eq!(normalize_path("/../../etc"), "/etc");
    assert_eq!(normalize_path(""), "/");
    assert_eq!(normalize_path("/"), "/");
    assert_eq!(
        normalize_path("/%2e%2e/access-delegations"),
        "/access-delegations"
    );
}

#[test]
fn keeps_non_ascii_text_intact() {
    assert_eq!(normalize_path("/caf\u{e9}/%C3%A9"), "/caf\u{e9}/%C3%A9");
}

#[test]
fn a_plain_path_has_one_borrowed_reading() {
    for path in ["/", "/logistics-objects/4f6c2a", "/a/", "/a.b/..c/.d"] {
        assert_eq!(readings(path), Readings::One(path), "{path}");
    }
    assert_eq!(
        readings("/logistics-objects/1?embedded=true"),
        Readings::One("/logistics-objects/1")
    );
}

#[test]
fn readings_cover_each_backend_form() {
    let cases: &[(&str, &str)] = &[
        // `;` parameters, removed before dots resolve (Tomcat, Spring, Jetty).
        ("/;x/access-delegations", "/access-delegations"),
        ("/;/access-delegations", "/access-delegations"),
        ("/x/..;/access-delegations", "/access-delegations"),
        ("/.;/access-delegations", "/access-delegations"),
        // Encoded separators and backslashes read as `/`.
        ("/x%2F..%2Faccess-delegations", "/access-delegations"),
        ("/%2Faccess-delegations", "/access-delegations"),
        ("/x/..%5caccess-delegations", "/access-delegations"),
        ("/x/..\\access-delegations", "/access-delegations"),
        ("/x/..%3B/access-delegations", "/access-delegations"),
        // Dots not resolved (a prefix router behind an Envoy that does not normalise).
        (
            "/access-delegations/../public",
            "/access-delegations/../public",
        ),
        ("/access-delegations/../public", "/public"),
    ];
    for (path, reading) in cases {
        assert!(
            all(path).contains(&reading.to_string()),
            "{path}: {:?}",
            all(path)
        );
    }
}

#[test]
fn readings_are_distinct_and_ordinary_first() {
    let r = all("/x/..;/a%2Fb");
    assert_eq!(r.first().map(String::as_str), Some("/x/..;/a%2Fb"));
    let mut unique = r.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), r.len());
    assert!(r.len() <= 8);
    assert_eq!(all("//a"), ["/a", "/"]);
    assert_eq!(all("/a/./b"), ["/a/b", "/a/./b"]);
}

#[test]
fn kept_escapes_stay_escaped_and_upper_case() {
    assert_eq!(all("/caf%c3%a9"), ["/caf%C3%A9"]);
    assert_eq!(all("/a%252Fb"), ["/a%252Fb"]);
    assert_eq!(all("/a%41"), ["/aA"]);
}

#[test]
fn canonical_is_every_choice_made() {
    assert_eq!(canonical_path("/logistics%2Dobjects"), "/logistics-objects");
    assert_eq!(canonical_path("/a;v=1/b%2Fc/./d/../e"), "/a/b/c/e");
    assert_eq!(canonical_path("/a\\b%3Bx"), "/a/b");
    assert_eq!(canonical_path("/a/?q"), "/a/");
}

#[test]
fn valid_request_paths() {
    for ok in [
        "/",
        "/a?b=c%20d",
        "/caf%C3%A9",
        "/a;b",
        "/a\\b",
        "/~!$&'()*+,=:@",
    ] {
        assert!(is_valid_request_path(ok), "{ok}");
    }
    // The limit is on the path; a query may be longer.
    let longest = "/a".repeat(MAX_PATH_LEN / 2);
    assert!(is_valid_request_path(&longest));
    assert!(is_valid_request_path(&format!(
        "{longest}?q={}",
        "x".repeat(9000)
    )));
    for bad in [
        "",
        "a",
        "*",
        "http://host/a",
        "/a b",
        "/a\u{7f}",
        "/\u{fffd}",
        "/caf\u{e9}",
        "/a\tb",
        "/a%",
        "/a%2",
        "/a%zz",
        "/a%+1",
        "/a?q=100%",
        "/admin%00",
        "/a%00/b",
        &"/a".repeat(MAX_PATH_LEN / 2 + 1),
    ] {
        assert!(!is_valid_request_path(bad), "{bad:?}");
    }
}

#[test]
fn encode_invalid_makes_a_valid_path() {
    assert_eq!(encode_invalid("/caf\u{e9}"), "/caf%C3%A9");
    assert_eq!(encode_invalid("/a b%"), "/a%20b%25");
    assert_eq!(encode_invalid("a"), "/a");
    assert_eq!(encode_invalid("/a%2f"), "/a%2f");
    assert!(is_valid_request_path(&encode_invalid("x\u{0}%%4")));
    assert_eq!(encode_invalid("/admin%00"), "/admin");
}

mod matching {
    use super::*;
    use crate::config::Config;

    fn config(rules: &str) -> Config {
        Config::parse(format!(r#"{{"rules":{rules}}}"#).as_bytes()).unwrap()
    }

    fn picked(c: &Config, path: &str, method: &str) -> Vec<Option<String>> {
        select_rules(c, path, method)
            .unwrap()
            .picks()
            .map(|p| p.map(|i| c.rules[i].name.clone()))
            .collect()
    }

    fn names(list: &[Option<&str>]) -> Vec<Option<String>> {
        list.iter().map(|n| n.map(str::to_string)).collect()
    }

    #[test]
    fn case_is_ignored_unless_the_rule_says_otherwise() {
        let c = config(
            r#"[{"name":"ad","path_prefix":"/access-delegations"},
                {"name":"cs","path_prefix":"/CaseSensitive","case_sensitive":true}]"#,
        );
        for path in [
            "/ACCESS-DELEGATIONS",
            "/Access-Delegations/1",
            "/%41ccess-delegations",
        ] {
            assert_eq!(picked(&c, path, "GET"), names(&[Some("ad")]), "{path}");
        }
        assert_eq!(picked(&c, "/CaseSensitive/x", "GET"), names(&[Some("cs")]));
        assert_eq!(picked(&c, "/casesensitive/x", "GET"), names(&[None]));
    }

    #[test]
    fn exact_paths_take_one_trailing_slash() {
        let c = config(r#"[{"name":"admin","path_exact":"/admin"}]"#);
        for path in [
            "/admin",
            "/admin/",
            "/Admin",
            "/admin;x",
            "/admin?x",
            "/admin/;x",
        ] {
            assert!(
                picked(&c, path, "GET").contains(&Some("admin".into())),
                "{path}"
            );
        }
        for path in ["/admin/x", "/adminx", "/admi", "/"] {
            assert_eq!(picked(&c, path, "GET"), names(&[None]), "{path}");
        }
        let root = config(r#"[{"name":"root","path_exact":"/"}]"#);
        assert_eq!(picked(&root, "/", "GET"), names(&[Some("root")]));
        assert_eq!(picked(&root, "/a", "GET"), names(&[None]));
    }

    #[test]
    fn get_covers_head() {
        let c = config(r#"[{"name":"read","path_prefix":"/a","methods":["GET"]}]"#);
        assert_eq!(picked(&c, "/a", "HEAD"), names(&[Some("read")]));
        assert_eq!(picked(&c, "/a", "head"), names(&[Some("read")]));
        assert_eq!(picked(&c, "/a", "POST"), names(&[None]));
        let post = config(r#"[{"name":"write","path_prefix":"/a","methods":["POST"]}]"#);
        assert_eq!(picked(&post, "/a", "HEAD"), names(&[None]));
    }

    #[test]
    fn each_reading_selects_its_first_rule() {
        let c = config(
            r#"[{"name":"public","path_prefix":"/public"},
                {"name":"ad","path_prefix":"/access-delegations"}]"#,
        );
        assert_eq!(
            picked(&c, "/public/..;/access-delegations", "GET"),
            names(&[Some("public"), Some("ad")])
        );
        assert_eq!(
            picked(&c, "/access-delegations/../public", "GET"),
            names(&[Some("public"), Some("ad")])
        );
        assert_eq!(picked(&c, "/public/a;b", "GET"), names(&[Some("public")]));
    }

    #[test]
    fn an_invalid_path_selects_nothing() {
        let c = config(r#"[{"name":"all","path_prefix":"/"}]"#);
        for path in ["", "/\u{fffd}", "/a%zz", "*", "/a b"] {
            assert_eq!(select_rules(&c, path, "GET"), None, "{path:?}");
        }
    }
}

#[test]
fn dots_over_unmerged_segments_are_a_reading() {
    // RFC 3986 dot removal and the WHATWG URL parser keep `//` as an empty
    // segment, which `..` then removes instead of the segment before it.
    assert!(all("/./access-delegations//..").contains(&"/access-delegations/".to_string()));
    assert!(all("/./admin//..").contains(&"/admin/".to_string()));
    assert!(all("/x/;/..").contains(&"/x/".to_string()));
    // Empty segments are still merged in what is compared.
    assert_eq!(
        all("/x//access-delegations"),
        vec!["/x/access-delegations".to_string()]
    );
    assert_eq!(normalize_path("/./access-delegations//.."), "/");
}

#[test]
fn separators_are_read_one_kind_at_a_time_too() {
    // The WHATWG URL parser takes `\` as `/` but keeps `%5C` and `%2F`.
    assert!(all("/.\\access-delegations/..%5C").contains(&"/access-delegations/..%5C".to_string()));
    // Go's decoded path takes `%2F` as `/` but `\` as a name.
    assert!(all("/x\\..%2F..%2Faccess-delegations").contains(&"/access-delegations".to_string()));
}

#[test]
fn a_leading_double_slash_may_start_an_authority() {
    assert!(all("//public/access-delegations").contains(&"/access-delegations".to_string()));
    assert!(all("/\\public/admin").contains(&"/admin".to_string()));
    assert!(all("//public").contains(&"/".to_string()));
    assert!(all("///public//admin").contains(&"/admin".to_string()));
    // Also where no separator is decoded.
    assert!(
        all("//public/access-delegations\\..").contains(&"/access-delegations\\..".to_string())
    );
}
