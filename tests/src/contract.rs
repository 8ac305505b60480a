//! Every problem answer a test receives is checked against the committed
//! contract (`openapi/openapi.json`): the request's method and path are
//! matched to an operation, whose responses must document the status, and
//! list the `code` as a named example of that status (the codes any request
//! can get are the contract's `ProblemCode` `x-any-request`). A request no
//! operation serves (an unknown path, a method the path lacks) is not
//! checked: no operation documents it.
//!
//! With `KEYHOLDER_CONTRACT_LOG=<file>` a mismatch is appended to the file
//! instead of failing the test (to survey a whole run at once).

use std::io::Write;
use std::sync::OnceLock;

use serde_json::Value;

use crate::Reply;

const COMMITTED: &str = include_str!("../../openapi/openapi.json");

struct Operation {
    method: String,
    id: String,
    /// The path template's segments: `None` for a `{parameter}`.
    segments: Vec<Option<String>>,
    responses: Value,
}

struct Contract {
    operations: Vec<Operation>,
    shared: Value,
    any_request: Vec<String>,
}

fn contract() -> &'static Contract {
    static CONTRACT: OnceLock<Contract> = OnceLock::new();
    CONTRACT.get_or_init(|| {
        let doc: Value = serde_json::from_str(COMMITTED).expect("openapi/openapi.json is JSON");
        let mut operations = Vec::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            let segments = path
                .split('/')
                .map(|s| (!s.starts_with('{')).then(|| s.to_owned()))
                .collect::<Vec<_>>();
            for (method, op) in item.as_object().expect("path item") {
                operations.push(Operation {
                    method: method.to_uppercase(),
                    id: op["operationId"].as_str().unwrap_or(path).to_owned(),
                    segments: segments.clone(),
                    responses: op["responses"].clone(),
                });
            }
        }
        let any = &doc["components"]["schemas"]["ProblemCode"]["x-any-request"];
        Contract {
            operations,
            shared: doc["components"]["responses"].clone(),
            any_request: any
                .as_array()
                .map(|a| a.iter().filter_map(|c| c.as_str().map(ToOwned::to_owned)).collect())
                .unwrap_or_default(),
        }
    })
}

impl Operation {
    /// How many literal segments match `path` (None: no match).
    fn matches(&self, path: &[&str]) -> Option<usize> {
        if self.segments.len() != path.len() {
            return None;
        }
        let mut literal = 0;
        for (template, seg) in self.segments.iter().zip(path) {
            match template {
                Some(t) if t == seg => literal += 1,
                Some(_) => return None,
                None if seg.is_empty() => return None,
                None => {}
            }
        }
        Some(literal)
    }

    /// Whether the operation documents `code` at `status`: `Err` says why not.
    fn documents(&self, status: u16, code: &str, contract: &Contract) -> Result<(), String> {
        let Some(mut response) = self.responses.get(status.to_string()) else {
            return Err(format!("status {status} is not documented"));
        };
        if let Some(name) = response["$ref"].as_str() {
            let name = name.rsplit('/').next().unwrap_or_default();
            response = &contract.shared[name];
        }
        let examples = &response["content"]["application/problem+json"]["examples"];
        if examples.get(code).is_some() {
            Ok(())
        } else {
            let listed: Vec<&String> =
                examples.as_object().map(|e| e.keys().collect()).unwrap_or_default();
            Err(format!("code {code:?} is not listed for {status} (listed: {listed:?})"))
        }
    }
}

/// Checks a problem answer to `method` (every method when the caller does
/// not know it: any operation of the path may document it) on `url`.
pub(crate) fn check(method: Option<&str>, url: &reqwest::Url, reply: &Reply) {
    let is_problem =
        reply.header("content-type").is_some_and(|t| t.starts_with("application/problem+json"));
    if !is_problem {
        return;
    }
    let code = reply.body["code"].as_str().unwrap_or_default();
    let contract = contract();
    if contract.any_request.iter().any(|c| c == code) {
        return;
    }
    let path: Vec<&str> = url.path().split('/').collect();
    let mut candidates: Vec<(usize, &Operation)> = contract
        .operations
        .iter()
        .filter(|op| method.is_none_or(|m| m.eq_ignore_ascii_case(&op.method)))
        .filter_map(|op| op.matches(&path).map(|n| (n, op)))
        .collect();
    let Some(best) = candidates.iter().map(|(n, _)| *n).max() else {
        return;
    };
    candidates.retain(|(n, _)| *n == best);
    let mut why = Vec::new();
    for (_, op) in &candidates {
        match op.documents(reply.status, code, contract) {
            Ok(()) => return,
            Err(e) => why.push(format!("{} {} ({}): {e}", op.method, url.path(), op.id)),
        }
    }
    let message = format!(
        "the contract does not document this problem answer: {}\nbody: {}",
        why.join("; "),
        reply.text
    );
    match std::env::var_os("KEYHOLDER_CONTRACT_LOG") {
        Some(log) => {
            let line = format!(
                "{}\t{}\t{}\t{}\n",
                candidates.iter().map(|(_, op)| op.id.as_str()).collect::<Vec<_>>().join("|"),
                reply.status,
                code,
                reply.text
            );
            let file = std::fs::OpenOptions::new().create(true).append(true).open(log);
            if let Ok(mut f) = file {
                let _ = f.write_all(line.as_bytes());
            }
        }
        None => panic!("{message}"),
    }
}

#[cfg(test)]
mod tests {
    use super::check;
    use crate::Reply;

    fn problem(status: u16, code: &str) -> Reply {
        let body = serde_json::json!({
            "type": format!("urn:keyholder:problem:{code}"),
            "title": "Some title",
            "status": status,
            "detail": "Some detail.",
            "code": code,
        });
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("content-type", "application/problem+json".parse().expect("header"));
        Reply { status, headers, text: body.to_string(), body }
    }

    /// The panic message of checking `reply` to `method` on `path`, if any.
    fn refusal(method: Option<&str>, path: &str, reply: &Reply) -> Option<String> {
        let url = reqwest::Url::parse(&format!("http://127.0.0.1:1{path}")).expect("url");
        std::panic::catch_unwind(|| check(method, &url, reply))
            .err()
            .map(|e| e.downcast_ref::<String>().cloned().unwrap_or_else(|| "a panic".to_owned()))
    }

    const ASSET: &str = "/api/v1/assets/0190e3a4-5b6c-7d8e-9f00-112233445566";

    #[test]
    fn a_documented_code_passes() {
        assert_eq!(refusal(Some("DELETE"), ASSET, &problem(404, "asset_not_found")), None);
        assert_eq!(refusal(Some("GET"), "/api/v1/me?x=1", &problem(401, "token_revoked")), None);
        // 500 and 503 through the shared responses; codes any request gets.
        assert_eq!(refusal(Some("GET"), "/api/v1/me", &problem(500, "internal_error")), None);
        assert_eq!(refusal(Some("GET"), "/api/v1/me", &problem(403, "cors_refused")), None);
        // Without the method: any operation of the path may document it.
        assert_eq!(refusal(None, ASSET, &problem(403, "full_access_required")), None);
    }

    #[test]
    fn an_undocumented_code_or_status_fails_naming_the_operation() {
        let wrong_code = refusal(Some("DELETE"), ASSET, &problem(404, "invitation_not_found"));
        let message = wrong_code.expect("refused");
        assert!(message.contains("deleteAsset") && message.contains("invitation_not_found"));
        let wrong_status = refusal(Some("GET"), "/api/v1/me", &problem(409, "conflict"));
        assert!(wrong_status.expect("refused").contains("status 409 is not documented"));
        // A literal segment wins over a parameter: `stats` is no {invitation_id}.
        let stats = "/api/v1/asset-invitations/stats";
        let refused = refusal(Some("GET"), stats, &problem(404, "invitation_not_found"));
        assert!(refused.expect("refused").contains("getAssetInvitationStats"));
    }

    #[test]
    fn what_no_operation_serves_is_not_checked() {
        assert_eq!(refusal(Some("GET"), "/api/v1/nowhere", &problem(404, "not_found")), None);
        assert_eq!(refusal(Some("PUT"), ASSET, &problem(405, "no_such_code")), None);
    }
}
