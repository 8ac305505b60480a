//! The committed contract matches the code, and the server serves it.

use keyholder_tests::{Backend, TestApp};

const COMMITTED: &str = include_str!("../../openapi/openapi.json");

#[test]
fn committed_openapi_document_is_current() {
    let generated = keyholder_api::openapi::document_json();
    if generated != COMMITTED {
        let diff = similar::TextDiff::from_lines(COMMITTED, generated.as_str());
        let mut report = String::new();
        for hunk in diff.unified_diff().context_radius(3).iter_hunks() {
            report.push_str(&hunk.to_string());
        }
        panic!(
            "openapi/openapi.json is stale. Regenerate it with\n\n    \
             cargo run -p keyholder-api -- openapi > openapi/openapi.json\n\n\
             Difference (committed → generated):\n{report}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn served_document_is_openapi_3_1_with_the_bearer_scheme() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let reply = app.get("/api-docs/openapi.json", None).await;
    reply.assert_status(200);
    let served = &reply.body;
    let committed: serde_json::Value = serde_json::from_str(COMMITTED).expect("committed JSON");
    assert_eq!(served, &committed);
    assert!(served["openapi"].as_str().is_some_and(|v| v.starts_with("3.1")));
    assert_eq!(served["info"]["title"], "Keyholder API");
    assert_eq!(served["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    // Every operation that needs a token documents 401; every error is problem+json.
    for (path, item) in served["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("item") {
            let responses = op["responses"].as_object().expect("responses");
            // Every operation states its security: `[]` when it needs no
            // token, and a 401 answer when it may need one.
            let security = op["security"].as_array().expect("security stated");
            let needs_token = security.iter().any(|r| !r.as_object().is_some_and(|o| o.is_empty()));
            if needs_token {
                assert!(responses.contains_key("401"), "{method} {path} lacks 401");
            }
            if path.starts_with("/api/") {
                for shared in ["500", "503"] {
                    assert!(responses.contains_key(shared), "{method} {path} lacks {shared}");
                }
            }
            for (status, response) in responses {
                // A shared answer is a reference to components/responses.
                let response = match response["$ref"].as_str() {
                    Some(r) => {
                        let name = r.trim_start_matches("#/components/responses/");
                        &served["components"]["responses"][name]
                    }
                    None => response,
                };
                if status.starts_with('4') || status.starts_with('5') {
                    assert!(
                        response["content"].get("application/problem+json").is_some(),
                        "{method} {path} {status} is not problem+json"
                    );
                }
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swagger_ui_is_served() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let res = app.client.get(app.url("/swagger-ui/")).send().await.expect("answer");
    assert_eq!(res.status(), 200);
    let html = res.text().await.expect("html");
    assert!(html.contains("swagger-ui"), "{html}");
    let init =
        app.client.get(app.url("/swagger-ui/swagger-initializer.js")).send().await.expect("answer");
    assert_eq!(init.status(), 200);
    assert!(init.text().await.expect("js").contains("/api-docs/openapi.json"));
}

/// Every operation of the committed document: (method, path, operation).
fn operations(doc: &serde_json::Value) -> Vec<(String, String, serde_json::Value)> {
    let mut all = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("item") {
            all.push((method.clone(), path.clone(), op.clone()));
        }
    }
    all
}

#[test]
fn every_operation_has_an_explicit_unique_id_a_summary_and_a_description() {
    let doc: serde_json::Value = serde_json::from_str(COMMITTED).expect("committed JSON");
    let mut seen = std::collections::HashMap::new();
    for (method, path, op) in operations(&doc) {
        let id = op["operationId"].as_str().unwrap_or_default();
        // lowerCamelCase of two words or more: written for clients, never
        // a handler's snake_case name.
        let camel = id.chars().next().is_some_and(|c| c.is_ascii_lowercase())
            && id.chars().all(|c| c.is_ascii_alphanumeric())
            && id.chars().any(|c| c.is_ascii_uppercase());
        assert!(camel, "{method} {path}: operationId {id:?} is not an explicit lowerCamelCase id");
        if let Some(other) = seen.insert(id.to_owned(), format!("{method} {path}")) {
            panic!("operationId {id} is used by {other} and by {method} {path}");
        }
        let summary = op["summary"].as_str().unwrap_or_default();
        assert!(!summary.trim().is_empty(), "{method} {path} has no summary");
        assert!(!summary.contains('\n') && summary.len() <= 80, "{method} {path}: {summary:?}");
        if let Some(created) = op["responses"].get("201") {
            let location = &created["headers"]["Location"];
            assert!(location.is_object(), "{method} {path}: 201 without a Location header");
        }
        let description = op["description"].as_str().unwrap_or_default();
        assert!(!description.trim().is_empty(), "{method} {path} has no description");
    }
    assert!(seen.len() >= 80, "only {} operations", seen.len());
}

/// The JSON body of a request or response, if it has one.
fn json_body(holder: &serde_json::Value) -> Option<&serde_json::Value> {
    holder.get("content").and_then(|c| c.get("application/json"))
}

/// The schema `$ref` points at (`#/components/schemas/...`), or `schema`.
fn resolve<'a>(doc: &'a serde_json::Value, schema: &'a serde_json::Value) -> &'a serde_json::Value {
    match schema.get("$ref").and_then(|r| r.as_str()) {
        Some(r) => doc.pointer(r.trim_start_matches('#')).unwrap_or(&serde_json::Value::Null),
        None => schema,
    }
}

/// The example a schema documents: its own `example` (or first of
/// `examples`), that of the schema it references, or, for an object, one
/// composed of its properties' examples (every required property must have
/// one) and, for an array, a list of its items' example.
fn example_of(doc: &serde_json::Value, schema: &serde_json::Value) -> Option<serde_json::Value> {
    if let Some(example) = schema.get("example") {
        return Some(example.clone());
    }
    if let Some(first) = schema.get("examples").and_then(|e| e.as_array()).and_then(|e| e.first()) {
        return Some(first.clone());
    }
    if schema.get("$ref").is_some() {
        return example_of(doc, resolve(doc, schema));
    }
    if let Some(items) = schema.get("items") {
        return example_of(doc, items).map(|item| serde_json::json!([item]));
    }
    let properties = schema.get("properties")?.as_object()?;
    let required: Vec<&str> = schema["required"]
        .as_array()
        .map(|r| r.iter().filter_map(|n| n.as_str()).collect())
        .unwrap_or_default();
    let mut composed = serde_json::Map::new();
    for (name, property) in properties {
        match example_of(doc, property) {
            Some(example) => {
                composed.insert(name.clone(), example);
            }
            None if required.contains(&name.as_str()) => return None,
            None => {}
        }
    }
    Some(serde_json::Value::Object(composed))
}

/// Why `example` does not fit `schema` (its `$ref`s resolved against the
/// document's components), if it does not.
fn misfit(
    doc: &serde_json::Value,
    schema: &serde_json::Value,
    example: &serde_json::Value,
) -> Option<String> {
    let mut root = serde_json::json!({"allOf": [schema]});
    root["components"] = doc["components"].clone();
    let validator = match jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .build(&root)
    {
        Ok(v) => v,
        Err(e) => return Some(format!("the schema does not compile: {e}")),
    };
    let errors: Vec<String> =
        validator.iter_errors(example).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    (!errors.is_empty()).then(|| errors.join("; "))
}

/// Every JSON request body and 2xx response body: (where, media type).
fn bodies(doc: &serde_json::Value) -> Vec<(String, serde_json::Value)> {
    let mut all = Vec::new();
    for (method, path, op) in operations(doc) {
        if let Some(media) = op.get("requestBody").and_then(json_body) {
            all.push((format!("{method} {path} request"), media.clone()));
        }
        for (status, response) in op["responses"].as_object().expect("responses") {
            if status.starts_with('2')
                && let Some(media) = json_body(resolve(doc, response))
            {
                all.push((format!("{method} {path} {status}"), media.clone()));
            }
        }
    }
    all
}

/// Every request and 2xx response body documents a realistic example (on
/// the media type, on its schema or composed from its properties'), and the
/// example is valid against the schema it illustrates (formats included), so
/// Swagger UI's "Try it out" starts from an input the server accepts.
#[test]
fn every_body_has_an_example_that_fits_its_schema() {
    let doc: serde_json::Value = serde_json::from_str(COMMITTED).expect("committed JSON");
    let mut problems = Vec::new();
    let mut checked = 0;
    for (place, media) in bodies(&doc) {
        let schema = &media["schema"];
        let example = media.get("example").cloned().or_else(|| example_of(&doc, schema));
        let Some(example) = example else {
            problems.push(format!("{place}: no example"));
            continue;
        };
        checked += 1;
        if let Some(why) = misfit(&doc, schema, &example) {
            problems.push(format!("{place}: the example does not fit its schema: {why}"));
        }
    }
    assert!(problems.is_empty(), "{} bodies:\n{}", problems.len(), problems.join("\n"));
    assert!(checked >= 80, "only {checked} bodies checked");
}

/// Where a schema (or a schema inside it) is an object that says nothing of
/// its members: no `properties` and no `additionalProperties`.
fn bare_objects(schema: &serde_json::Value, at: &str, found: &mut Vec<String>) {
    let Some(fields) = schema.as_object() else { return };
    let types = &schema["type"];
    let object =
        types == "object" || types.as_array().is_some_and(|t| t.contains(&"object".into()));
    if object && !fields.contains_key("properties") && !fields.contains_key("additionalProperties")
    {
        found.push(at.to_owned());
    }
    if let Some(properties) = schema["properties"].as_object() {
        for (name, p) in properties {
            bare_objects(p, &format!("{at}.{name}"), found);
        }
    }
    for key in ["items", "additionalProperties"] {
        if let Some(inner) = schema.get(key) {
            bare_objects(inner, &format!("{at}[{key}]"), found);
        }
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        for (i, inner) in schema[key].as_array().into_iter().flatten().enumerate() {
            bare_objects(inner, &format!("{at}.{key}[{i}]"), found);
        }
    }
}

/// No schema is a bare `{type: object}`: a free-form member states what its
/// values are (`additionalProperties`), so generated clients can read and
/// write it (openapi-typescript turns a bare object into
/// `Record<string, never>`).
#[test]
fn no_schema_is_a_bare_object() {
    let doc: serde_json::Value = serde_json::from_str(COMMITTED).expect("committed JSON");
    let mut found = Vec::new();
    for (name, schema) in doc["components"]["schemas"].as_object().expect("schemas") {
        bare_objects(schema, name, &mut found);
    }
    for (place, media) in bodies(&doc) {
        bare_objects(&media["schema"], &place, &mut found);
    }
    assert!(found.is_empty(), "bare objects:\n{}", found.join("\n"));
}

/// Every `$ref` to a schema names a component the document carries (a
/// parameter's enum too: utoipa does not collect those by itself).
#[test]
fn every_schema_reference_resolves() {
    let text = COMMITTED;
    let doc: serde_json::Value = serde_json::from_str(text).expect("committed JSON");
    let schemas = doc["components"]["schemas"].as_object().expect("schemas");
    let prefix = "\"#/components/schemas/";
    let mut missing: Vec<&str> = text
        .match_indices(prefix)
        .filter_map(|(at, _)| text[at + prefix.len()..].split('"').next())
        .filter(|name| !schemas.contains_key(*name))
        .collect();
    missing.sort_unstable();
    missing.dedup();
    assert!(missing.is_empty(), "unknown schemas: {missing:?}");
}

/// The parameters an operation takes in `location` ("path", "query").
fn parameters_in(op: &serde_json::Value, location: &str) -> std::collections::BTreeSet<String> {
    let parameters = op["parameters"].as_array().into_iter().flatten();
    let named = parameters.filter(|p| p["in"] == location).filter_map(|p| p["name"].as_str());
    named.map(str::to_owned).collect()
}

/// The JSON schema `schema` with its `$ref` followed.
fn resolved<'a>(
    doc: &'a serde_json::Value,
    schema: &'a serde_json::Value,
) -> &'a serde_json::Value {
    match schema["$ref"].as_str() {
        Some(name) => {
            &doc["components"]["schemas"][name.trim_start_matches("#/components/schemas/")]
        }
        None => schema,
    }
}

/// Whether the JSON pointer `pointer` (e.g. `/items/0/user/id`) names a field
/// the schema declares: `$ref`s followed, a number steps into `items`, a
/// nullable `oneOf` into its non-null variant.
fn declares(doc: &serde_json::Value, schema: &serde_json::Value, pointer: &[&str]) -> bool {
    let schema = resolved(doc, schema);
    let variants = ["oneOf", "anyOf", "allOf"].into_iter().filter_map(|k| schema[k].as_array());
    if variants.flatten().any(|variant| declares(doc, variant, pointer)) {
        return true;
    }
    let Some((first, rest)) = pointer.split_first() else {
        return schema.is_object();
    };
    let next = if first.parse::<usize>().is_ok() {
        &schema["items"]
    } else {
        &schema["properties"][*first]
    };
    !next.is_null() && declares(doc, next, rest)
}

/// Every runtime expression (a string starting with `$`) in a link's value.
fn expressions(value: &serde_json::Value) -> Vec<&str> {
    match value {
        serde_json::Value::String(s) if s.starts_with('$') => vec![s.as_str()],
        serde_json::Value::Array(items) => items.iter().flat_map(expressions).collect(),
        serde_json::Value::Object(fields) => fields.values().flat_map(expressions).collect(),
        _ => Vec::new(),
    }
}

/// Why a link's `expression` from operation `op`'s answer (`body` schema)
/// does not name a real value, if it does not.
fn unreal(
    doc: &serde_json::Value,
    op: &serde_json::Value,
    body: &serde_json::Value,
    expression: &str,
) -> Option<String> {
    if let Some(field) = expression.strip_prefix("$request.path.") {
        return (!parameters_in(op, "path").contains(field))
            .then(|| format!("{field} is not a path id of the source"));
    }
    if let Some(pointer) = expression.strip_prefix("$response.body#/") {
        let pointer: Vec<&str> = pointer.split('/').collect();
        return (!declares(doc, body, &pointer)).then(|| "not a field of the answer".to_owned());
    }
    Some("not a runtime expression this document uses".to_owned())
}

#[test]
fn links_reach_every_operation_with_a_path_id_from_a_real_field() {
    let doc: serde_json::Value = serde_json::from_str(COMMITTED).expect("committed JSON");
    let all = operations(&doc);
    let by_id: std::collections::HashMap<&str, &serde_json::Value> =
        all.iter().map(|(_, _, op)| (op["operationId"].as_str().unwrap_or_default(), op)).collect();
    let mut reached = std::collections::BTreeSet::new();
    let mut count = 0;
    for (method, path, op) in &all {
        for (status, response) in op["responses"].as_object().expect("responses") {
            let Some(links) = response["links"].as_object() else { continue };
            let body = &response["content"]["application/json"]["schema"];
            for (name, link) in links {
                count += 1;
                let at = format!("{method} {path} {status} link {name}");
                let target_id = link["operationId"].as_str().unwrap_or_default();
                let Some(target) = by_id.get(target_id) else {
                    panic!("{at}: no operation {target_id:?}")
                };
                let parameters = link["parameters"].as_object().cloned().unwrap_or_default();
                let mut given_path = std::collections::BTreeSet::new();
                for (parameter, value) in &parameters {
                    let (location, bare) = parameter.split_once('.').unwrap_or(("path", parameter));
                    assert!(
                        parameters_in(target, location).contains(bare),
                        "{at}: {target_id} takes no {location} parameter {bare}"
                    );
                    if location == "path" {
                        given_path.insert(bare.to_owned());
                        assert!(
                            value.as_str().is_some_and(|v| v.starts_with('$')),
                            "{at}: a constant path id"
                        );
                    }
                }
                assert_eq!(
                    given_path,
                    parameters_in(target, "path"),
                    "{at}: every path id of {target_id}, no other"
                );
                let request = &target["requestBody"]["content"]["application/json"]["schema"];
                for field in link["requestBody"].as_object().into_iter().flat_map(|o| o.keys()) {
                    assert!(
                        declares(&doc, request, &[field]),
                        "{at}: {target_id}'s body has no field {field}"
                    );
                }
                let values = parameters.values().chain(std::iter::once(&link["requestBody"]));
                for expression in values.flat_map(expressions) {
                    if let Some(why) = unreal(&doc, op, body, expression) {
                        panic!("{at}: {expression}: {why}");
                    }
                }
                reached.insert(target_id.to_owned());
            }
        }
    }
    // Operations with a path id that no answer yields: none.
    let exceptions: &[&str] = &[];
    for (method, path, op) in &all {
        let id = op["operationId"].as_str().unwrap_or_default();
        if !parameters_in(op, "path").is_empty() && !exceptions.contains(&id) {
            assert!(reached.contains(id), "{method} {path} ({id}) is the target of no link");
        }
    }
    assert!(count >= 60, "only {count} links");
}
