//! The `Link` header of a list answer, as GitHub writes it: root-relative
//! URLs of the same list with the caller's other query parameters kept,
//! each with its `rel` (`next`; when paging by number also `prev`, `first`
//! and, when the total is exact, `last`).

use actix_web::http::Uri;

use crate::views::common::CursorPage;

/// The paging parameters a link sets itself (the rest are kept as sent).
const PAGING: [&str; 2] = ["page", "cursor"];

/// The `Link` header value for `page` of the list at `uri`; `None` when
/// no link applies (a single page reached by cursor).
pub fn header<T: utoipa::ToSchema>(uri: &Uri, page: &CursorPage<T>) -> Option<String> {
    let sent: Vec<(String, String)> =
        actix_web::web::Query::<Vec<(String, String)>>::from_query(uri.query().unwrap_or(""))
            .map(|q| q.into_inner())
            .unwrap_or_default();
    let by_cursor = sent.iter().any(|(k, v)| k == "cursor" && !v.is_empty());
    let kept: Vec<&(String, String)> =
        sent.iter().filter(|(k, _)| !PAGING.contains(&k.as_str())).collect();
    let link = |extra: (&str, String), rel: &str| {
        let mut query: Vec<String> =
            kept.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect();
        query.push(format!("{}={}", extra.0, encode(&extra.1)));
        format!("<{}?{}>; rel=\"{rel}\"", uri.path(), query.join("&"))
    };
    let mut links = Vec::new();
    if let Some(next) = &page.next_cursor {
        links.push(link(("cursor", next.clone()), "next"));
    }
    if !by_cursor {
        if page.page > 1 {
            links.push(link(("page", (page.page - 1).to_string()), "prev"));
        }
        links.push(link(("page", "1".to_owned()), "first"));
        if page.total_exact {
            let last = (page.total.max(1) + page.per_page - 1) / page.per_page.max(1);
            links.push(link(("page", last.to_string()), "last"));
        }
    }
    (!links.is_empty()).then(|| links.join(", "))
}

/// Percent-encodes a query name or value: every byte but the unreserved
/// characters of RFC 3986.
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(n: i64, total: i64, exact: bool, next: Option<&str>) -> CursorPage<String> {
        CursorPage {
            items: Vec::new(),
            total,
            total_exact: exact,
            page: n,
            per_page: 10,
            next_cursor: next.map(str::to_owned),
        }
    }

    #[test]
    fn links_keep_the_other_parameters_and_replace_the_paging() {
        let uri: Uri = "/api/v1/assets?q=a%20b%26c&page=2&per_page=10".parse().expect("a uri");
        let got = header(&uri, &page(2, 35, true, Some("abc"))).expect("links");
        assert_eq!(
            got,
            "</api/v1/assets?q=a%20b%26c&per_page=10&cursor=abc>; rel=\"next\", \
             </api/v1/assets?q=a%20b%26c&per_page=10&page=1>; rel=\"prev\", \
             </api/v1/assets?q=a%20b%26c&per_page=10&page=1>; rel=\"first\", \
             </api/v1/assets?q=a%20b%26c&per_page=10&page=4>; rel=\"last\""
        );
    }

    #[test]
    fn a_cursor_page_links_only_the_next_one() {
        let uri: Uri = "/api/v1/audit?cursor=xyz".parse().expect("a uri");
        assert_eq!(
            header(&uri, &page(1, 1000, false, Some("n-1"))).expect("links"),
            "</api/v1/audit?cursor=n-1>; rel=\"next\""
        );
        assert_eq!(header(&uri, &page(1, 3, true, None)), None);
    }

    #[test]
    fn an_inexact_total_has_no_last_link() {
        let uri: Uri = "/api/v1/estates".parse().expect("a uri");
        let got = header(&uri, &page(1, 1000, false, Some("c"))).expect("links");
        assert!(!got.contains("rel=\"last\""), "{got}");
        assert!(got.contains("</api/v1/estates?page=1>; rel=\"first\""), "{got}");
    }
}
